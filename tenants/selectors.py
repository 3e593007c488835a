"""Reads of templates and tenants, shaped for the API and the admin (no N+1 queries)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from provisioning.models import UNFINISHED_JOB_STATUSES
from tenants.errors import TemplateNotFound, TenantNotFound
from tenants.models import ConnectionStatus, IntegrationTemplate, Tenant, TenantConnection
from tenants.services.settings import schema_defaults

# external_id is the host app's own customer id. It appears in URL paths, so it is limited
# to characters that need no escaping there.
EXTERNAL_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}"
_EXTERNAL_ID = re.compile(rf"^{EXTERNAL_ID_PATTERN}$")
_TEMPLATE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def template_list(*, include_inactive: bool = False) -> QuerySet[IntegrationTemplate]:
    templates = IntegrationTemplate.objects.all()
    return templates if include_inactive else templates.filter(is_active=True)


def template_get(*, key: str) -> IntegrationTemplate:
    template = (
        IntegrationTemplate.objects.filter(key=key).first() if _TEMPLATE_KEY.match(key) else None
    )
    if template is None:
        raise TemplateNotFound(f"No template with key {key!r}.")
    return template


def tenant_get(*, external_id: str) -> Tenant:
    """The tenant (with its template) for services to act on."""
    tenant = None
    if _EXTERNAL_ID.match(external_id):
        tenant = Tenant.objects.select_related("template").filter(external_id=external_id).first()
    if tenant is None:
        raise TenantNotFound(f"No tenant with external_id {external_id!r}.")
    return tenant


# --- Read model for the API -------------------------------------------------------------------
# The API's status view is read as plain rows (`values()`), not model instances: it is the
# hottest path of the API, and rows skip model construction and the prefetch machinery.
# A tenant view is a dict of TENANT_COLUMNS plus "connections": {slot_key: connection row},
# and its template's "slots", "settings_schema" and "settings_defaults".

TENANT_COLUMNS = (
    "id",
    "external_id",
    "name",
    "status",
    "status_changed_at",
    "integration_id",
    "settings",
    "allowed_origins",
    "last_error",
    "created_at",
    "updated_at",
    "template_id",
    "template__key",
    "template__name",
    "template__version",
    "template__updated_at",
)
JOB_COLUMNS = ("id", "kind", "status", "created_at", "finished_at")
# The tenant's two newest jobs, joined (see Tenant.latest_job).
NEWEST_JOB_COLUMNS = tuple(
    f"{which}__{name}" for which in ("latest_job", "previous_job") for name in JOB_COLUMNS
)
CONNECTION_COLUMNS = (
    "slot_key",
    "status",
    "connection_id",
    "last_ping_at",
    "last_ping_error",
    "field_values",
)


@dataclass(frozen=True)
class _TemplateParts:
    updated_at: datetime
    slots: list
    settings_schema: dict
    settings_defaults: dict


# Each process keeps the large JSON parts of templates, keyed by id and checked against the
# row's `template__updated_at`, so that a page of tenants does not fetch and decode the same
# template once per row. A template edit is seen at once (its updated_at changes).
_template_parts: dict[int, _TemplateParts] = {}


def _template_parts_for(template_id: int, updated_at: datetime) -> _TemplateParts:
    parts = _template_parts.get(template_id)
    if parts is None or parts.updated_at != updated_at:
        row = (
            IntegrationTemplate.objects.filter(pk=template_id)
            .values("slots", "settings_schema", "updated_at")
            .get()
        )
        parts = _TemplateParts(
            updated_at=row["updated_at"],
            slots=row["slots"],
            settings_schema=row["settings_schema"],
            settings_defaults=schema_defaults(row["settings_schema"]),
        )
        _template_parts[template_id] = parts
    return parts


def _with_template(view: dict) -> dict:
    parts = _template_parts_for(view["template_id"], view["template__updated_at"])
    view["slots"] = parts.slots
    view["settings_schema"] = parts.settings_schema
    view["settings_defaults"] = parts.settings_defaults
    return view


# The read queries below start from these prepared querysets: resolving two dozen columns
# across four tables costs more than running the query, so it is done once per process (each
# use clones them; they are never evaluated themselves).
_TENANT_ROWS = Tenant.objects.values(*TENANT_COLUMNS, *NEWEST_JOB_COLUMNS)
_TENANT_VIEW_ROWS = Tenant.objects.order_by().values(
    *TENANT_COLUMNS,
    *NEWEST_JOB_COLUMNS,
    *(f"connections__{name}" for name in CONNECTION_COLUMNS),
)
# Unordered: the model's ordering would join and sort the tenants again.
_CONNECTION_ROWS = TenantConnection.objects.order_by().values("tenant_id", *CONNECTION_COLUMNS)


def tenant_list(
    *, status: str | None = None, template_key: str | None = None, search: str | None = None
) -> QuerySet:
    """Tenant rows, newest first (one query per page); complete a page with
    `tenant_views_complete` (one more query, whatever the page size)."""
    tenants = _TENANT_ROWS.all()
    if status:
        tenants = tenants.filter(status=status)
    if template_key:
        tenants = tenants.filter(template__key=template_key)
    if search:
        tenants = tenants.filter(Q(external_id__icontains=search) | Q(name__icontains=search))
    return tenants


def tenant_views_complete(*, rows: list[dict]) -> list[dict]:
    """Attach each row's connections, with one query for the whole page."""
    by_tenant: dict[int, dict] = {row["id"]: {} for row in rows}
    if by_tenant:
        connections = _CONNECTION_ROWS.filter(tenant_id__in=by_tenant)
        for connection in connections:
            by_tenant[connection.pop("tenant_id")][connection["slot_key"]] = connection
    return [
        _with_template(
            {
                **{name: row[name] for name in TENANT_COLUMNS},
                "connections": by_tenant[row["id"]],
                **_current_and_last_job(row),
            }
        )
        for row in rows
    ]


def _current_and_last_job(row: dict) -> dict:
    """`current_job` (unfinished) and `last_job` (the newest finished) from a row holding
    NEWEST_JOB_COLUMNS. The unfinished job, if any, is always the newest one."""
    latest, previous = (
        {name: row[f"{which}__{name}"] for name in JOB_COLUMNS} if row[f"{which}__id"] else None
        for which in ("latest_job", "previous_job")
    )
    if latest is not None and latest["status"] in UNFINISHED_JOB_STATUSES:
        return {"current_job": latest, "last_job": previous}
    return {"current_job": None, "last_job": latest}


def tenant_view(*, external_id: str) -> dict:
    """One tenant's view, in one query (the tenant joined with its connections and jobs)."""
    rows = []
    if _EXTERNAL_ID.match(external_id):
        rows = list(_TENANT_VIEW_ROWS.filter(external_id=external_id))
    if not rows:
        raise TenantNotFound(f"No tenant with external_id {external_id!r}.")
    view = {name: rows[0][name] for name in TENANT_COLUMNS}
    view["connections"] = {
        row["connections__slot_key"]: {
            name: row[f"connections__{name}"] for name in CONNECTION_COLUMNS
        }
        for row in rows
        if row["connections__slot_key"] is not None
    }
    view.update(_current_and_last_job(rows[0]))
    return _with_template(view)


def tenant_connections_ready(*, tenant: Tenant) -> bool:
    """True when every slot of the tenant's template has a working connection."""
    slot_keys = {slot["key"] for slot in tenant.template.slots}
    ok = set(
        TenantConnection.objects.filter(
            tenant=tenant, slot_key__in=slot_keys, status=ConnectionStatus.OK
        ).values_list("slot_key", flat=True)
    )
    return bool(slot_keys) and ok == slot_keys


def tenant_connection_health(*, slots: list[dict], connections: dict[str, dict]) -> list[dict]:
    """One entry per slot of the template, in template order; a slot without a
    TenantConnection row is `missing`. `connections` maps slot keys to connection rows."""
    health = []
    for slot in slots:
        row = connections.get(slot["key"])
        health.append(
            {
                "slot": slot["key"],
                "label": slot["label"],
                "connection_type": slot["connection_type"],
                "status": row["status"] if row else ConnectionStatus.MISSING.value,
                "connection_id": (row["connection_id"] if row else "") or None,
                "last_ping_at": row["last_ping_at"] if row else None,
                "last_ping_error": (row["last_ping_error"] if row else "") or None,
                "fields": dict(row["field_values"]) if row else {},
            }
        )
    return health

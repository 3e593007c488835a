"""Reads of templates and tenants, shaped for the API and the admin (no N+1 queries)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tenants.errors import TemplateNotFound, TenantNotFound
from tenants.models import ConnectionStatus, IntegrationTemplate, Tenant, TenantConnection
from tenants.services.settings import schema_defaults
from tenants.view_query import tenant_view_rows

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
    """The current incarnation of the tenant (with its template) for services to act on."""
    tenant = None
    if _EXTERNAL_ID.match(external_id):
        tenant = (
            Tenant.objects.select_related("template")
            .filter(external_id=external_id, superseded_at__isnull=True)
            .first()
        )
    if tenant is None:
        raise TenantNotFound(f"No tenant with external_id {external_id!r}.")
    return tenant


# --- Read model for the API -------------------------------------------------------------------
# The API's status view is read by tenants.view_query in one SQL statement (rows, not model
# instances); here each view gets its template's "slots", "settings_schema" and
# "settings_defaults".


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


def tenant_views_page(*, limit: int, **filters) -> list[dict]:
    """Up to `limit` tenant views, newest first, in one query whatever the limit. `filters`
    are those of `tenant_view_rows`: status, template_key, search, and a position to read on
    from (`after` / `before`)."""
    return [_with_template(view) for view in tenant_view_rows(limit=limit, **filters)]


def tenant_view(*, external_id: str) -> dict:
    """One tenant's view, in one query (the tenant joined with its connections and jobs)."""
    views = []
    if _EXTERNAL_ID.match(external_id):
        views = tenant_view_rows(limit=1, external_id=external_id)
    if not views:
        raise TenantNotFound(f"No tenant with external_id {external_id!r}.")
    return _with_template(views[0])


def tenant_connections_ready(*, tenant: Tenant) -> bool:
    """True when every slot of the tenant's template has a working connection."""
    return bool(tenant.template.slots) and not tenant_slots_not_ready(tenant=tenant)


def tenant_slots_not_ready(*, tenant: Tenant) -> list[str]:
    """The template's slots (in its order) that have no working connection of the tenant."""
    ok = set(
        TenantConnection.objects.filter(tenant=tenant, status=ConnectionStatus.OK)
        .exclude(connection_id="")
        .values_list("slot_key", flat=True)
    )
    return [slot["key"] for slot in tenant.template.slots if slot["key"] not in ok]


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

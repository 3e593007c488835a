"""The tenant status view (a tenant with its connections and its two newest jobs) read in one
SQL statement, for the API's tenant detail and list.

This is the hottest read of the API, and the ORM spent more time building and compiling its
two dozen columns over five tables, and converting the rows, than the database spent running
it; so it is written out here once, in SQL that PostgreSQL and SQLite both run. A view is a
dict of TENANT_COLUMNS plus "connections" ({slot_key: CONNECTION_COLUMNS}), "current_job"
and "last_job" (JOB_COLUMNS or None); the selectors add the template's parts.

Rows come back in walk order: newest first, or, reading backwards from a position, oldest
first. A page is chosen by id first (the CTE, which the (created_at, id) indexes serve), then
joined, so that a tenant's several connection rows never count against the limit. Only
current incarnations are read: a superseded one is history (see tenants.models.Tenant).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

from core.integrator_client import rate_limit_redis
from core.integrator_outage import IntegratorStatus, integrator_status_of
from provisioning.models import UNFINISHED_JOB_STATUSES, JobStatus
from tenants.errors import TenantNotFound
from tenants.models import TemplateVersion
from tenants.selectors import EXTERNAL_ID_MATCH
from tenants.services.settings import schema_defaults

TENANT_COLUMNS = (
    ("t.id", "id"),
    ("t.external_id", "external_id"),
    ("t.incarnation", "incarnation"),
    ("t.name", "name"),
    ("t.status", "status"),
    ("t.status_changed_at", "status_changed_at"),
    ("t.integration_id", "integration_id"),
    ("t.settings", "settings"),
    ("t.allowed_origins", "allowed_origins"),
    ("t.last_error", "last_error"),
    ("t.created_at", "created_at"),
    ("t.updated_at", "updated_at"),
    ("t.template_id", "template_id"),
    ("t.template_version_id", "template_version_id"),
    ("tpl.key", "template__key"),
    ("tpl.name", "template__name"),
    ("tv.version", "template__version"),
    ("tv.published_at", "template_version__published_at"),
    ("tpl.version", "template__latest_version"),
    ("t.version_pinned", "version_pinned"),
    ("t.account_id", "account_id"),
    ("acc.key", "account__key"),
    ("acc.region", "account__region"),
)
JOB_COLUMNS = ("id", "kind", "status", "created_at", "finished_at", "waiting_since", "due_at")
CONNECTION_COLUMNS = (
    "slot_key",
    "status",
    "connection_id",
    "last_ping_at",
    "last_ping_error",
    "field_values",
)

_TENANT_KEYS = tuple(key for _, key in TENANT_COLUMNS)
_TENANT_DATETIMES = (
    "status_changed_at",
    "created_at",
    "updated_at",
    "template_version__published_at",
)
_LATEST = len(TENANT_COLUMNS)
_PREVIOUS = _LATEST + len(JOB_COLUMNS)
_CONNECTION = _PREVIOUS + len(JOB_COLUMNS)

_SELECT = ",\n    ".join(
    [
        *(expression for expression, _ in TENANT_COLUMNS),
        *(f"lj.{name}" for name in JOB_COLUMNS),
        *(f"pj.{name}" for name in JOB_COLUMNS),
        *(f"c.{name}" for name in CONNECTION_COLUMNS),
    ]
)
# {where} and {direction} are filled from fixed strings only (see `tenant_view_rows`); every
# value is a bound parameter.
_SQL = f"""
WITH page AS (
    SELECT t.id, t.created_at FROM tenants_tenant t
    WHERE t.superseded_at IS NULL AND {{where}}
    ORDER BY t.created_at {{direction}}, t.id {{direction}}
    LIMIT %(limit)s
)
SELECT
    {_SELECT}
FROM page
JOIN tenants_tenant t ON t.id = page.id
JOIN tenants_integrationtemplate tpl ON tpl.id = t.template_id
JOIN tenants_templateversion tv ON tv.id = t.template_version_id
JOIN core_integratoraccount acc ON acc.id = t.account_id
LEFT JOIN provisioning_job lj ON lj.id = t.latest_job_id
LEFT JOIN provisioning_job pj ON pj.id = t.previous_job_id
LEFT JOIN tenants_tenantconnection c ON c.tenant_id = t.id
ORDER BY page.created_at {{direction}}, page.id {{direction}}
"""  # noqa: S608

# Each filter's condition on the tenants table `t`, and the parameters it takes.
CONDITIONS = {
    "external_id": "t.external_id = %(external_id)s",
    "status": "t.status = %(status)s",
    "template_key": (
        "t.template_id = (SELECT id FROM tenants_integrationtemplate WHERE key = %(template_key)s)"
    ),
    "account_key": (
        "t.account_id = (SELECT id FROM core_integratoraccount WHERE key = %(account_key)s)"
    ),
    "region": "t.account_id IN (SELECT id FROM core_integratoraccount WHERE region = %(region)s)",
    "search": (
        "(UPPER(t.external_id) LIKE UPPER(%(search)s) ESCAPE '\\'"
        " OR UPPER(t.name) LIKE UPPER(%(search)s) ESCAPE '\\')"
    ),
    "after": "(t.created_at, t.id) < (%(after_created_at)s, %(after_id)s)",
    "before": "(t.created_at, t.id) > (%(before_created_at)s, %(before_id)s)",
}


def tenant_view_rows(
    *,
    limit: int,
    external_id: str | None = None,
    status: str | None = None,
    template_key: str | None = None,
    account_key: str | None = None,
    region: str | None = None,
    search: str | None = None,
    after: tuple[datetime, int] | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[dict]:
    """Up to `limit` tenant views matching every filter given, newest first; `after` and
    `before` are the (created_at, id) of a row to read on from, older or newer (the newer
    ones come oldest first, nearest the position)."""
    params: dict = {"limit": limit}
    where = []
    for name, value in (
        ("external_id", external_id),
        ("status", status),
        ("template_key", template_key),
        ("account_key", account_key),
        ("region", region),
        ("search", _contains(search) if search else None),
    ):
        if value is not None:
            where.append(CONDITIONS[name])
            params[name] = value
    for name, position in (("after", after), ("before", before)):
        if position is not None:
            where.append(CONDITIONS[name])
            params[f"{name}_created_at"] = connection.ops.adapt_datetimefield_value(position[0])
            params[f"{name}_id"] = position[1]
    sql = _SQL.format(
        where=" AND ".join(where) or "TRUE",
        direction="ASC" if before is not None else "DESC",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _views(cursor.fetchall())


def _views(rows: list[tuple]) -> list[dict]:
    views: list[dict] = []
    view: dict = {"id": None}
    for row in rows:
        if row[0] != view["id"]:
            view = dict(zip(_TENANT_KEYS, row[:_LATEST], strict=True))
            for name in _TENANT_DATETIMES:
                view[name] = _aware(view[name])
            view["settings"] = _json(view["settings"])
            view["allowed_origins"] = _json(view["allowed_origins"])
            view["connections"] = {}
            view.update(_current_and_last_job(_job(row, _LATEST), _job(row, _PREVIOUS)))
            views.append(view)
        if row[_CONNECTION] is not None:
            found = dict(zip(CONNECTION_COLUMNS, row[_CONNECTION:], strict=True))
            found["last_ping_at"] = _aware(found["last_ping_at"])
            found["field_values"] = _json(found["field_values"])
            view["connections"][found["slot_key"]] = found
    return views


def _job(row: tuple, start: int) -> dict | None:
    if row[start] is None:
        return None
    job = dict(zip(JOB_COLUMNS, row[start : start + len(JOB_COLUMNS)], strict=True))
    job["id"] = _uuid(job["id"])
    job["created_at"] = _aware(job["created_at"])
    job["finished_at"] = _aware(job["finished_at"])
    job["waiting_since"] = _aware(job["waiting_since"])
    job["due_at"] = _aware(job["due_at"])
    return job


def _current_and_last_job(latest: dict | None, previous: dict | None) -> dict:
    """The tenant's newest two jobs as `current_job` (unfinished) and `last_job` (the newest
    finished). At most one job is unfinished and it is always the newest (Tenant.latest_job)."""
    if latest is not None and latest["status"] in UNFINISHED_JOB_STATUSES:
        return {"current_job": latest, "last_job": previous}
    return {"current_job": None, "last_job": latest}


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Raw rows are not converted by model fields: JSON columns come back as text from both
# backends; SQLite's datetimes come back naive (in UTC, as Django stores them) and its UUIDs
# as 32 hex digits.
def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def _aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _uuid(value):
    return uuid.UUID(value) if isinstance(value, str) else value


# --- Views as the API serves them ---------------------------------------------------------------
# The rows above, each with its version's "slots", "settings_schema" and "settings_defaults".


@dataclass(frozen=True)
class _TemplateParts:
    slots: list
    settings_schema: dict
    settings_defaults: dict


# Each process keeps the large JSON parts of template versions, keyed by id, so that a page
# of tenants does not fetch and decode the same version once per row. A published version
# never changes, so what is kept is never stale.
_template_parts: dict[tuple[int, datetime], _TemplateParts] = {}


def _template_parts_for(version_id: int, published_at: datetime) -> _TemplateParts:
    # Keyed by id and publication time: a row id alone can come back for other content
    # (a database restored or recreated under a running process).
    parts = _template_parts.get((version_id, published_at))
    if parts is None:
        row = TemplateVersion.objects.filter(pk=version_id).values("slots", "settings_schema").get()
        parts = _TemplateParts(
            slots=row["slots"],
            settings_schema=row["settings_schema"],
            settings_defaults=schema_defaults(row["settings_schema"]),
        )
        _template_parts[(version_id, published_at)] = parts
    return parts


def _with_template(view: dict) -> dict:
    parts = _template_parts_for(view["template_version_id"], view["template_version__published_at"])
    view["slots"] = parts.slots
    view["settings_schema"] = parts.settings_schema
    view["settings_defaults"] = parts.settings_defaults
    return view


def tenant_views_page(*, limit: int, **filters) -> list[dict]:
    """Up to `limit` tenant views, newest first, in one query whatever the limit. `filters`
    are those of `tenant_view_rows`: status, template_key, account_key, region, search, and a
    position to read on from (`after` / `before`)."""
    return _with_integrator_wait(
        [_with_template(view) for view in tenant_view_rows(limit=limit, **filters)]
    )


def tenant_view(*, external_id: str) -> dict:
    """One tenant's view, in one query (the tenant joined with its connections and jobs)."""
    views = []
    if EXTERNAL_ID_MATCH.match(external_id):
        views = tenant_view_rows(limit=1, external_id=external_id)
    if not views:
        raise TenantNotFound(f"No tenant with external_id {external_id!r}.")
    return _with_integrator_wait([_with_template(views[0])])[0]


def _with_integrator_wait(views: list[dict]) -> list[dict]:
    """Each view's "waiting_for_integrator": None, or, while its current job waits out
    integrator.io being unavailable (queued, `waiting_since` set), when it began waiting, when
    it tries again, and its account's circuit breaker (open while integrator.io fails). The
    breaker is read from Redis once per account among those views, and only for them: a page
    with no waiting job reads nothing more. Never a call to integrator.io."""
    statuses: dict[str, IntegratorStatus] = {}
    for view in views:
        job = view["current_job"]
        if job is None or job["status"] != JobStatus.QUEUED or job["waiting_since"] is None:
            view["waiting_for_integrator"] = None
            continue
        key = view["account__key"]
        if key not in statuses:
            statuses[key] = integrator_status_of(rate_limit_redis(), account_key=key)
        view["waiting_for_integrator"] = {
            "since": job["waiting_since"],
            "next_attempt_at": job["due_at"],
            "integrator": statuses[key],
        }
    return views

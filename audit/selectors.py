from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet

from audit.models import AuditEvent


def audit_event_list(
    *,
    actor_type: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    tenant: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, narrowed by the filters given. `action` ending with a dot
    (`tenant.`) matches every action on that target type; `actor` matches the actor's id or
    name exactly (a key's prefix or name, a username, a link id, a task's name)."""
    events = AuditEvent.objects.all()
    if actor_type is not None:
        events = events.filter(actor_type=actor_type)
    if actor is not None:
        events = events.filter(Q(actor_id=actor) | Q(actor_name=actor))
    if action is not None:
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if target_type is not None:
        events = events.filter(target_type=target_type)
    if target_id is not None:
        events = events.filter(target_id=target_id)
    if tenant is not None:
        events = events.filter(tenant=tenant)
    if request_id is not None:
        events = events.filter(request_id=request_id)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.order_by("-created_at", "-id")


# The columns whose values the admin offers as filters; each is the first column of an index
# (`audit_action`, `audit_target`).
_INDEXED_VALUE_COLUMNS = ("action", "target_type")


def audit_values_used(*, column: str) -> list[str]:
    """The values `column` holds in the log, in order, read by skipping through its index one
    value at a time (a query per value, each an index probe) rather than by a DISTINCT, which
    reads every event (a year of events: millions of rows, on every admin page)."""
    if column not in _INDEXED_VALUE_COLUMNS:
        raise ValueError(f"No index starts with {column!r}.")
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    name = connection.ops.quote_name(column)
    # Our own table, and a column from the list above.
    sql = f"""
WITH RECURSIVE used(value) AS (
    SELECT MIN({name}) FROM {table}
    UNION ALL
    SELECT (SELECT MIN({name}) FROM {table} WHERE {name} > used.value)
    FROM used WHERE used.value IS NOT NULL
)
SELECT value FROM used WHERE value IS NOT NULL
"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]

"""The flows of a tenant's integration written as just read, in SQL spelled out here.

Every provisioning job's end records the flows it made or changed (runs.receivers), and the
ORM building that upsert (and the two updates beside it) cost a job more worker CPU than
sending them (docs/performance.md). The SQL is portable (PostgreSQL and SQLite: both take
`ON CONFLICT … DO UPDATE` with `excluded`), and every value goes through its model field's
own adaptation (core.spelled_sql), so the stored rows are what the ORM would have written.
tests/runs/test_flow_rows.py checks the statements against the models.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from core import spelled_sql as sql
from runs.models import SyncState, TenantFlow

# Written from a listing, in this order; the key (tenant, flow id) comes first.
_UPSERT_COLUMNS = (
    "tenant",
    "flow_id",
    "name",
    "source_id",
    "disabled",
    "removed_at",
    "refreshed_at",
)


def flow_rows_write(
    *, tenant_pk: int, flows: list[tuple[str, str, bool, str]], now: datetime, fresh: bool
) -> None:
    """Upsert each (flow id, name, disabled, source id) as listed now, mark the tenant's other
    flows removed, and date the tenant's flow listing (`fresh`) or clear that date (the next
    sync lists them again). Three statements, in the caller's transaction."""
    with connection.cursor() as cursor:
        if flows:
            columns = ", ".join(sql.column(TenantFlow, name) for name in _UPSERT_COLUMNS)
            key = ", ".join(sql.column(TenantFlow, name) for name in _UPSERT_COLUMNS[:2])
            updates = ", ".join(
                f"{sql.column(TenantFlow, name)} = excluded.{sql.column(TenantFlow, name)}"
                for name in _UPSERT_COLUMNS[2:]
            )
            row = "(" + ", ".join(["%s"] * len(_UPSERT_COLUMNS)) + ")"
            refreshed = sql.db_value(TenantFlow, "refreshed_at", now)
            params: list = []
            for flow_id, name, disabled, source_id in flows:
                params += [
                    tenant_pk,
                    flow_id,
                    name,
                    source_id,
                    sql.db_value(TenantFlow, "disabled", disabled),
                    None,
                    refreshed,
                ]
            cursor.execute(
                f"INSERT INTO {sql.table(TenantFlow)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(flows))} "
                f"ON CONFLICT ({key}) "
                f"DO UPDATE SET {updates}",
                params,
            )
        listed = ""
        if flows:
            placeholders = ", ".join(["%s"] * len(flows))
            listed = f" AND {sql.column(TenantFlow, 'flow_id')} NOT IN ({placeholders})"
        cursor.execute(
            f"UPDATE {sql.table(TenantFlow)} SET {sql.column(TenantFlow, 'removed_at')} = %s "  # noqa: S608
            f"WHERE {sql.column(TenantFlow, 'tenant')} = %s "
            f"AND {sql.column(TenantFlow, 'removed_at')} IS NULL{listed}",
            [sql.db_value(TenantFlow, "removed_at", now), tenant_pk, *(flow[0] for flow in flows)],
        )
        cursor.execute(
            f"UPDATE {sql.table(SyncState)} SET {sql.column(SyncState, 'flows_refreshed_at')} = %s "  # noqa: S608
            f"WHERE {sql.column(SyncState, 'tenant')} = %s",
            [sql.db_value(SyncState, "flows_refreshed_at", now if fresh else None), tenant_pk],
        )

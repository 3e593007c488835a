"""The writes that record a job's progress (claim, lease renewal, a step's progress, API call
log), the check that a run still holds its job, and the reads of what a run works on (its
tenant, steps, connections, clone intents and settings), in plain SQL.

A provisioning job renews its fence, records its steps and logs its calls many times over;
building those statements through the ORM cost more worker CPU than the HTTP calls
themselves (bench/provision.py). The SQL is portable (PostgreSQL and SQLite) and every value
goes through its model field's own adaptation, so the stored data is what the ORM would
have written (core.spelled_sql). Nothing else should write this way but runs.flow_rows; the
column lists are checked against the models by tests/provisioning/test_job_progress_columns.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import connection

from core import spelled_sql as sql
from core.models import IntegratorAccount
from provisioning.models import ApiCall, Job, JobStatus, JobStep
from tenants.models import IntegrationTemplate, TemplateVersion, Tenant, TenantConnection


def job_claim_row(
    *, job: uuid.UUID, owner: str, now: datetime, until: datetime, due_by: datetime
) -> Job | None:
    """Take the job (a queued one that is due, or a running one whose lease ran out): bump
    its generation and attempts, set the lease. The job as this claim left it (its
    `lease_generation` the one this run holds), or None if it did not take it (one statement:
    it needs no transaction of its own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.table(Job)} SET status = %s, lease_owner = %s, lease_expires_at = %s, "  # noqa: S608
            "lease_generation = lease_generation + 1, attempts = attempts + 1, "
            "started_at = COALESCE(started_at, %s) "
            "WHERE id = %s AND ((status = %s AND due_at <= %s) "
            f"OR (status = %s AND lease_expires_at < %s)) RETURNING {sql.columns(Job)}",
            [
                JobStatus.RUNNING.value,
                owner,
                sql.db_value(Job, "lease_expires_at", until),
                sql.db_value(Job, "started_at", now),
                sql.db_value(Job, "id", job),
                JobStatus.QUEUED.value,
                sql.db_value(Job, "due_at", due_by),
                JobStatus.RUNNING.value,
                sql.db_value(Job, "lease_expires_at", now),
            ],
        )
        row = cursor.fetchone()
    return sql.loaded_instance(Job, row) if row is not None else None


def tenant_for_run(*, tenant_pk: int) -> Tenant | None:
    """The tenant a run works on, with its account, its version and the version's template
    (what `select_related` would load, in one statement spelled out here: the ORM compiling
    that four-table query for every job cost more worker CPU than the rest of the claim).
    None if the tenant is gone."""
    parts = (
        (Tenant, "t"),
        (TemplateVersion, "v"),
        (IntegrationTemplate, "p"),
        (IntegratorAccount, "a"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(sql.columns(model, alias) for model, alias in parts)} "  # noqa: S608
            f"FROM {sql.table(Tenant)} t "
            f"JOIN {sql.table(TemplateVersion)} v "
            f"ON v.{sql.pk(TemplateVersion)} = t.{sql.column(Tenant, 'template_version')} "
            f"JOIN {sql.table(IntegrationTemplate)} p "
            f"ON p.{sql.pk(IntegrationTemplate)} = v.{sql.column(TemplateVersion, 'template')} "
            f"JOIN {sql.table(IntegratorAccount)} a "
            f"ON a.{sql.pk(IntegratorAccount)} = t.{sql.column(Tenant, 'account')} "
            f"WHERE t.{sql.pk(Tenant)} = %s",
            [tenant_pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    loaded, start = [], 0
    for model, _ in parts:
        width = len(model._meta.concrete_fields)
        loaded.append(sql.loaded_instance(model, row[start : start + width]))
        start += width
    tenant, version, template, account = loaded
    version.template = template
    tenant.template_version = version
    tenant.account = account
    return tenant


def job_steps(*, job: Job) -> list[JobStep]:
    """The job's steps in order, as `job.steps.order_by("position")` loads them (each one's
    `job` the run's own instance), in one statement spelled out here."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.columns(JobStep)} FROM {sql.table(JobStep)} "  # noqa: S608
            f"WHERE {sql.column(JobStep, 'job')} = %s ORDER BY {sql.column(JobStep, 'position')}",
            [sql.db_value(Job, "id", job.pk)],
        )
        steps = [sql.loaded_instance(JobStep, row) for row in cursor.fetchall()]
    for step in steps:
        step.job = job
    return steps


def tenant_settings(*, tenant_pk: int) -> dict:
    """The tenant's settings as stored now (the end's check for a change made meanwhile)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.column(Tenant, 'settings')} FROM {sql.table(Tenant)} "  # noqa: S608
            f"WHERE {sql.pk(Tenant)} = %s",
            [tenant_pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Tenant.DoesNotExist(f"tenant {tenant_pk} is gone")
    return sql.loaded_value(Tenant, "settings", row[0])


def tenant_connection_rows(*, tenant_pk: int) -> list[tuple[str, str, str]]:
    """(slot key, status, connection id) of each of the tenant's connections."""
    names = ("slot_key", "status", "connection_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(sql.column(TenantConnection, name) for name in names)} "  # noqa: S608
            f"FROM {sql.table(TenantConnection)} "
            f"WHERE {sql.column(TenantConnection, 'tenant')} = %s",
            [tenant_pk],
        )
        return [tuple(row) for row in cursor.fetchall()]


def clone_step_outputs(*, tenant_pk: int) -> list[dict]:
    """The output of every clone step of every job of the tenant (a handful: one per
    provision), where the clone intents are recorded."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.{sql.column(JobStep, 'output')} FROM {sql.table(JobStep)} s "  # noqa: S608
            f"JOIN {sql.table(Job)} j ON j.{sql.pk(Job)} = s.{sql.column(JobStep, 'job')} "
            f"WHERE j.{sql.column(Job, 'tenant')} = %s AND s.{sql.column(JobStep, 'name')} = %s",
            [tenant_pk, "clone"],
        )
        return [sql.loaded_value(JobStep, "output", row[0]) for row in cursor.fetchall()]


# What a status change, an upgrade's end and the webhook events recorded with them read of
# the tenant whose row they lock (provisioning.tenant_status.tenant_locked).
_LOCKED_TENANT_FIELDS = {
    "id",
    "external_id",
    "incarnation",
    "status",
    "last_error",
    "status_changed_at",
    "updated_at",
    "template_version",
}


def tenant_row_locked(*, tenant_pk: int) -> Tenant:
    """The tenant's identity, status and version fields (the others deferred), its row
    locked until the transaction ends (where the database locks rows: SQLite locks the whole
    database on the first write instead). Tenant.DoesNotExist if it is gone."""
    fields = [f for f in Tenant._meta.concrete_fields if f.name in _LOCKED_TENANT_FIELDS]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(connection.ops.quote_name(f.column) for f in fields)} "  # noqa: S608
            f"FROM {sql.table(Tenant)} WHERE {sql.pk(Tenant)} = %s{lock}",
            [tenant_pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Tenant.DoesNotExist(f"tenant {tenant_pk} is gone")
    return sql.loaded_instance(Tenant, row, fields)


def job_lease_renew(*, job: Job, generation: int, until: datetime) -> bool:
    """Extend the lease, only while `generation` still holds the job (True if it does)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.table(Job)} SET lease_expires_at = %s "  # noqa: S608
            "WHERE id = %s AND lease_generation = %s AND status = %s",
            [
                sql.db_value(Job, "lease_expires_at", until),
                sql.db_value(Job, "id", job.pk),
                generation,
                JobStatus.RUNNING.value,
            ],
        )
        return cursor.rowcount == 1


def job_still_held(*, job: Job, generation: int) -> bool:
    """Whether `generation` still holds the job (not canceled, not taken over): one read, no
    transaction, for the step boundaries whose progress waits for a later write."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {sql.table(Job)} WHERE id = %s AND lease_generation = %s "  # noqa: S608
            "AND status = %s",
            [sql.db_value(Job, "id", job.pk), generation, JobStatus.RUNNING.value],
        )
        return cursor.fetchone() is not None


# A step's progress, column by column (in _step_values' order), with the PostgreSQL type
# steps_progress_write casts its values to.
_STEP_COLUMNS = (
    ("status", "varchar"),
    ("attempts", "integer"),
    ("started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("output", "jsonb"),
    ("error_code", "varchar"),
    ("error_message", "text"),
)


def _step_values(step: JobStep) -> list:
    return [
        str(step.status),
        step.attempts,
        sql.db_value(JobStep, "started_at", step.started_at),
        sql.db_value(JobStep, "finished_at", step.finished_at),
        sql.db_value(JobStep, "output", step.output),
        step.error_code,
        step.error_message,
    ]


def steps_progress_write(*, steps: list[JobStep]) -> None:
    """Several steps' progress (see step_write) in one statement on PostgreSQL: a job's end
    writes five of them, and each statement is a round trip. Elsewhere, one per step."""
    if connection.vendor != "postgresql" or len(steps) < 2:
        for step in steps:
            step_write(step=step)
        return
    # The casts type every row's values, NULLs included (a VALUES list has no column types).
    row = "(%s::bigint, " + ", ".join(f"%s::{kind}" for _, kind in _STEP_COLUMNS) + ")"
    names = ", ".join(name for name, _ in _STEP_COLUMNS)
    params: list = []
    for step in steps:
        params += [step.pk, *_step_values(step)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.table(JobStep)} AS s SET "  # noqa: S608
            + ", ".join(f"{name} = v.{name}" for name, _ in _STEP_COLUMNS)
            + f" FROM (VALUES {', '.join([row] * len(steps))}) AS v(id, {names}) "
            "WHERE s.id = v.id",
            params,
        )


def step_write(*, step: JobStep) -> None:
    """The step's progress as the run holds it in memory (status, attempts, when it started
    and finished, its output and error): the run is the only writer (the fence excludes
    others)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.table(JobStep)} SET "  # noqa: S608
            + ", ".join(f"{name} = %s" for name, _ in _STEP_COLUMNS)
            + " WHERE id = %s",
            [*_step_values(step), step.pk],
        )


_API_CALL_COLUMNS = (
    "job_id",
    "step_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "attempt",
    "error_code",
    "created_at",
)


def api_calls_insert(calls: list[ApiCall], *, at: datetime) -> None:
    if not calls:
        return
    row = "(" + ", ".join(["%s"] * len(_API_CALL_COLUMNS)) + ")"
    params: list = []
    created_at = sql.db_value(ApiCall, "created_at", at)
    job_id = sql.db_value(ApiCall, "job", calls[0].job_id)
    for call in calls:
        params += [
            job_id if call.job_id == calls[0].job_id else sql.db_value(ApiCall, "job", call.job_id),
            call.step_id,
            call.method,
            call.path,
            call.status,
            call.duration_ms,
            call.attempt,
            call.error_code,
            created_at,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {sql.table(ApiCall)} ({', '.join(_API_CALL_COLUMNS)}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(calls))}",
            params,
        )

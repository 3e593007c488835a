"""Writing integrator.io's flow jobs and flows into the mirror (upserts, never duplicates).

What a run keeps from its job, and the assumptions behind it (docs/integrator-io.md):
- counts come from the flow job itself, which totals its child export/import jobs
  (numExport, numPagesGenerated, numSuccess, numError, numIgnore, numResolved); child jobs
  are not fetched, which would cost a call per run;
- a status outside the documented set is kept as `running`, so the run is read again until
  it settles on a known one;
- a job whose `lastModified` has not changed is not written again, and a read older than the
  mirrored one (its `lastModified` is earlier: two readers crossed) does not overwrite it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrator.client import IntegratorClient
from integrator.resources import Job
from runs.flow_rows import flow_rows_write
from runs.models import UNFINISHED_RUN_STATUSES, FlowRun, RunStatus, TenantFlow
from tenants.models import Tenant, TenantStatus
from webhooks.models import EventType
from webhooks.services import event_record

logger = logging.getLogger(__name__)

# A failure older than this is history, not news: the first sync of a tenant (which reads
# up to a week back) does not replay old failures to the host app.
RUN_FAILED_EVENT_MAX_AGE = timedelta(hours=24)
_DURATION = re.compile(r"^(\d+):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$")

_UPDATED_FIELDS = [
    "flow_id",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "duration_ms",
    "num_success",
    "num_error",
    "num_ignore",
    "num_resolved",
    "num_export",
    "num_pages",
    "remote_modified_at",
    "synced_at",
]


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Flows named by runs seen for the first time (the cache may not know them yet).
    new_flow_ids: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _count(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _duration_ms(job: Job) -> int | None:
    if job.started_at and job.ended_at:
        return max(0, int((job.ended_at - job.started_at).total_seconds() * 1000))
    match = _DURATION.match(str(job.raw.get("duration") or ""))
    if not match:
        return None
    hours, minutes, seconds, millis = match.groups()
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(
        (millis or "0").ljust(3, "0")
    )


def _status(job: Job) -> str:
    try:
        return RunStatus(job.status).value
    except ValueError:
        logger.warning("job %s has an unknown status %r; kept as running", job.id, job.status)
        return RunStatus.RUNNING


def run_fields(job: Job) -> dict[str, Any]:
    raw = job.raw
    return {
        "flow_id": job.flow_id or "",
        "status": _status(job),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "duration_ms": _duration_ms(job),
        "num_success": job.num_success,
        "num_error": job.num_error,
        "num_ignore": job.num_ignore,
        "num_resolved": _count(raw.get("numResolved")),
        "num_export": _count(raw.get("numExport")),
        "num_pages": job.num_pages_generated,
        "remote_modified_at": str(raw.get("lastModified") or "")[:40],
    }


def runs_upsert(*, tenant: Tenant, jobs: list[Job], now: datetime | None = None) -> UpsertResult:
    """Insert or update the runs of `jobs` (flow jobs of the tenant's integration).

    Keyed on the job id, so reading a job again never adds a second run. A run that becomes
    `failed` records a `run.failed` event in the same transaction (once per run).
    """
    results = runs_upsert_many(pairs=[(tenant, job) for job in jobs], now=now)
    return results.get(tenant.pk, UpsertResult())


def runs_upsert_many(
    *, pairs: list[tuple[Tenant, Job]], now: datetime | None = None
) -> dict[int, UpsertResult]:
    """`runs_upsert` for the jobs of many tenants at once (each job with its tenant): one
    read and one write for all of them; the result of each tenant that had a job.

    A deprovisioned tenant's runs are never written, and the others' only under their rows'
    lock: a caller read its tenants earlier (a page of the account sync, a tenant due for
    sync, a run followed), and a deprovision may have committed since, closing the tenant's
    open runs as abandoned (`runs_abandon`, in the transaction of the move). Writing then
    would reopen them, or add runs (and `run.failed` events) to a tenant that is gone. The
    lock waits for a move under way to commit; a tenant deprovisioned by then is left alone."""
    now = now or timezone.now()
    results: dict[int, UpsertResult] = {}
    unique = {job.id: (tenant, job) for tenant, job in pairs if job.created_at is not None}
    if not unique:
        return results
    with transaction.atomic():
        kept = set(
            Tenant.objects.filter(pk__in={tenant.pk for tenant, _ in unique.values()})
            .exclude(status=TenantStatus.DEPROVISIONED)
            .order_by("pk")
            .select_for_update(no_key=True)
            .values_list("pk", flat=True)
        )
        unique = {job_id: pair for job_id, pair in unique.items() if pair[0].pk in kept}
        if not unique:
            return results
        rows, failed = _rows_to_write(unique, results=results, now=now)
        if not rows:
            return results
        FlowRun.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["job_id"],
            update_fields=_UPDATED_FIELDS,
        )
        for tenant, run in failed:
            if run.created_at >= now - RUN_FAILED_EVENT_MAX_AGE:
                _run_failed_event_record(tenant=tenant, run=run)
    return results


def _rows_to_write(
    unique: dict[str, tuple[Tenant, Job]], *, results: dict[int, UpsertResult], now: datetime
) -> tuple[list[FlowRun], list[tuple[Tenant, FlowRun]]]:
    """The runs to insert or update for `unique` (job id: tenant and job), counted into
    `results`, and those among them that have just failed."""
    known = {
        row["job_id"]: row
        for row in FlowRun.objects.filter(job_id__in=list(unique)).values(
            "job_id", "tenant_id", "status", "remote_modified_at"
        )
    }
    rows: list[FlowRun] = []
    failed: list[tuple[Tenant, FlowRun]] = []
    for tenant, job in unique.values():
        result = results.setdefault(tenant.pk, UpsertResult())
        fields = run_fields(job)
        previous = known.get(job.id)
        if previous is not None and previous["tenant_id"] != tenant.pk:
            logger.warning("job %s belongs to another tenant's mirror; not moved", job.id)
            continue
        if previous is not None and not _newer(fields, previous):
            result.unchanged += 1
            continue
        run = FlowRun(tenant=tenant, job_id=job.id, synced_at=now, **fields)
        rows.append(run)
        if previous is None:
            result.created += 1
            if fields["flow_id"]:
                result.new_flow_ids.add(fields["flow_id"])
        else:
            result.updated += 1
        was_failed = previous is not None and previous["status"] == RunStatus.FAILED
        if run.status == RunStatus.FAILED and not was_failed:
            failed.append((tenant, run))
    return rows, failed


def runs_abandon(*, tenant: Tenant, at: datetime) -> int:
    """Close the tenant's runs still open as `abandoned`: the tenant is deprovisioned, so
    nothing syncs it again and the mirror will not learn how they end (as a job integrator.io
    no longer has, `runs.sync`). Their counts stay as last read and no end time is made up.
    Returns how many were closed."""
    closed = FlowRun.objects.filter(tenant=tenant, status__in=UNFINISHED_RUN_STATUSES).update(
        status=RunStatus.ABANDONED, synced_at=at
    )
    if closed:
        logger.info("%d open run(s) of tenant %s abandoned", closed, tenant.external_id)
    return closed


def _modified(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _newer(fields: dict[str, Any], previous: dict[str, Any]) -> bool:
    """Whether a job just read says more than its mirrored run: not when its lastModified is
    the same (and the status too), nor when it is older (a stale read that crossed a newer
    one, e.g. the account sync and a run being followed)."""
    new, old = _modified(fields["remote_modified_at"]), _modified(previous["remote_modified_at"])
    if new is None or old is None:
        return True
    if new < old:
        return False
    return new > old or previous["status"] != fields["status"]


def jobs_changed(jobs: list[Job]) -> list[Job]:
    """The jobs whose run is not mirrored yet or would change (one query for all of them):
    what a sync has to write."""
    unique = {job.id: job for job in jobs if job.created_at is not None}
    if not unique:
        return []
    known = {
        row["job_id"]: row
        for row in FlowRun.objects.filter(job_id__in=list(unique)).values(
            "job_id", "status", "remote_modified_at"
        )
    }
    return [
        job
        for job in unique.values()
        if job.id not in known or _newer(run_fields(job), known[job.id])
    ]


def _run_failed_event_record(*, tenant: Tenant, run: FlowRun) -> None:
    flow = TenantFlow.objects.filter(tenant=tenant, flow_id=run.flow_id).first()
    event_record(
        tenant=tenant,
        event_type=EventType.RUN_FAILED,
        data={
            "run_id": run.job_id,
            "flow_id": run.flow_id,
            "flow_name": flow.name if flow else None,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "num_success": run.num_success,
            "num_error": run.num_error,
        },
        dedupe_key=f"run-failed:{run.job_id}",
    )


def tenant_flows_refresh(
    *, tenant: Tenant, client: IntegratorClient, now: datetime | None = None
) -> None:
    """Re-read the flows of the tenant's integration (one list call) into the cache; flows
    no longer listed are marked removed."""
    flows = client.list_integration_flows(tenant.integration_id)
    tenant_flows_record(
        tenant=tenant,
        flows=[(f.id, f.name, f.disabled, f.source_id or "") for f in flows],
        now=now,
    )


def tenant_flows_record(*, tenant: Tenant, flows: list[tuple], now: datetime | None = None) -> None:
    """Record the flows of the tenant's integration as just read ((id, name, disabled[,
    source_id]) each): from a listing here, or from the provisioning job that has just changed
    them (job outputs recorded before the source id was kept have three items).

    Flows recorded without their source id are not taken as a fresh listing: the integration
    page matches its on/off switches by the source id, so the tenant's next sync (runs.sync)
    lists them again rather than leaving the page without switches until the hourly check."""
    now = now or timezone.now()
    rows = [
        (
            flow[0],
            (flow[1] or "")[:200],
            flow[2],
            (flow[3] if len(flow) > 3 else "") or "",
        )
        for flow in flows
    ]
    # Without a savepoint when the caller has a transaction (a job's end): nothing is caught.
    with transaction.atomic(savepoint=False):
        flow_rows_write(
            tenant_pk=tenant.pk,
            flows=rows,
            now=now,
            fresh=all(len(flow) > 3 for flow in flows),
        )

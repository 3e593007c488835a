"""Drift: a live tenant's integration differing from what its template version and settings
say. A periodic, budgeted, read-only check plans each live tenant against its desired state
(four reads each); a non-empty plan is drift.

- First found: an episode opens (`Drift`), `tenant.drifted` is sent once for it, and, where the
  template says `drift: repair`, a reconcile job (an upgrade to the tenant's own version) is
  asked for.
- Still there: the episode keeps the latest changes and `last_seen_at`.
- Gone (the plan is empty): the episode is closed. A job whose reconcile step ends on an
  empty plan (a repair, an upgrade) has just made that check itself, so it
  closes the episode too (provisioning.drift_clear): otherwise the API and the admin would say
  "drifted" for up to DRIFT_CHECK_INTERVAL_SECONDS after the repair.
A deleted integration is drift too (the plan clones it; a repair makes it again), and so is a
deleted flow: both are found at the next check, not when runs stop arriving. So are the
exports and imports a deleted flow leaves behind (the planner's "leftover steps"), until
they are deleted: "in sync" means the integration holds what a fresh clone would.

Budget: each tick checks at most DRIFT_CHECK_BATCH tenants whose last check is older than
DRIFT_CHECK_INTERVAL_SECONDS, oldest first; a tenant with an unfinished job is left for later
(its job is changing it), and so is one whose job was queued while it was being read (a
rollout's wave going out during a batch): nothing is recorded, it is still due.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core import metrics
from core.errors import ApplicationError
from core.integrator_client import remote_error_for_caller
from core.models import IntegratorAccount
from integrator.client import IntegratorClient
from integrator.errors import AuthenticationError, IntegratorError
from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.errors import DriftCheckInterrupted
from provisioning.models import (
    UNFINISHED_JOB_STATUSES,
    Drift,
    DriftCheck,
    Job,
    JobKind,
    JobOrigin,
)
from provisioning.reconcile.changes import CloneIntegration
from provisioning.reconcile.observe import observe
from provisioning.reconcile.planner import plan
from provisioning.services.jobs import job_request
from provisioning.signals import drift_changed, tenant_flows_observed
from tenants.call_costs import CallTally
from tenants.models import CallPurpose, TemplateVersion, Tenant, TenantStatus
from webhooks.models import EventType
from webhooks.services import event_record

logger = logging.getLogger(__name__)

LIVE_STATUSES = (TenantStatus.ACTIVE, TenantStatus.DEGRADED)


@dataclass(frozen=True)
class DriftReport:
    checked: int
    drifted: int
    cleared: int
    errors: int
    repairs: int


def tenants_due_for_check(*, limit: int) -> list[Tenant]:
    """Live tenants with an integration, never checked or not for a check interval, without an
    unfinished job; oldest check first, then the never checked (by id).

    Two queries, so that each is driven by an index on a fleet of 50,000 (docs/performance.md):
    the checked ones by `drift_check_checked`, stopping at the batch; the never-checked ones,
    only when the first query is short of a batch."""
    tenants = list(tenants_checked_due(limit=limit))
    if len(tenants) < limit:
        tenants += list(tenants_never_checked(limit=limit - len(tenants)))
    return _with_versions(tenants)


def _with_versions(tenants: list[Tenant]) -> list[Tenant]:
    """A template's few versions, read once and shared by the batch's tenants (joined per row,
    each tenant would decode its version's snapshot again)."""
    versions = TemplateVersion.objects.select_related("template").in_bulk(
        {tenant.template_version_id for tenant in tenants}
    )
    for tenant in tenants:
        tenant.template_version = versions[tenant.template_version_id]
    return tenants


def _live_without_busy_job():
    busy = Job.objects.filter(tenant=OuterRef("pk"), status__in=UNFINISHED_JOB_STATUSES)
    return (
        Tenant.objects.filter(status__in=LIVE_STATUSES, superseded_at__isnull=True)
        .exclude(integration_id="")
        .exclude(Exists(busy))
        .select_related("account", "template")
    )


def tenants_checked_due(*, limit: int):
    """Due tenants that were checked before, oldest check first."""
    due = timezone.now() - timedelta(seconds=settings.DRIFT_CHECK_INTERVAL_SECONDS)
    return (
        _live_without_busy_job()
        .filter(drift_check__checked_at__lt=due)
        .order_by("drift_check__checked_at", "pk")[:limit]
    )


def tenants_never_checked(*, limit: int):
    """Live tenants that were never checked, by id."""
    return _live_without_busy_job().filter(drift_check__isnull=True).order_by("pk")[:limit]


def drift_busy_job(*, tenant: Tenant) -> Job | None:
    """The tenant's unfinished job, if any. Its integration is being changed: checked now, the
    job's half-made changes would be taken for drift (recorded, sent as `tenant.drifted`), so
    a check leaves the tenant for later, as the tick does."""
    return (
        Job.objects.filter(tenant=tenant, status__in=UNFINISHED_JOB_STATUSES)
        .order_by("created_at")
        .first()
    )


def drift_check(*, tenant: Tenant, client: IntegratorClient) -> Drift | None:
    """Compare the tenant's integration with its desired state and record the outcome; the
    open episode (None when there is no drift). Raises ApplicationError (no snapshot,
    settings that do not fit; DriftCheckInterrupted: a job of the tenant was under way as it
    was read, nothing recorded) or IntegratorError (integrator.io unavailable)."""
    version = tenant.template_version
    desired = tenant_desired_state(
        tenant=tenant,
        version=version,
        connection_map=tenant_connection_map(tenant=tenant, version=version),
    )
    began = timezone.now()
    observed = observe(client, tenant.integration_id)
    changes = plan(desired, observed)
    now = timezone.now()
    with transaction.atomic():
        # A job queued after the tenant was chosen (a rollout's wave going out during a
        # batch's reads) may have been changing the integration as it was read.
        meanwhile = (
            Job.objects.filter(tenant=tenant)
            .filter(Q(status__in=UNFINISHED_JOB_STATUSES) | Q(finished_at__gte=began))
            .first()
        )
        if meanwhile is not None:
            raise DriftCheckInterrupted(
                f"Its {meanwhile.kind} job {meanwhile.pk} was under way as its integration "
                "was read; checked again later."
            )
        DriftCheck.objects.update_or_create(
            tenant=tenant, defaults={"checked_at": now, "error": ""}
        )
        # The flows just read are the integration's flows now: the tenant's flow list follows
        # them, so that a flow deleted in integrator.io leaves it at the check that finds it
        # gone (and named in the tenant's health), not at the next hourly connection check.
        tenant_flows_observed.send(
            sender=Drift,
            tenant=tenant,
            flows=[(f.id, f.name, f.disabled, f.source_id or "") for f in observed.flows],
        )
        episode = Drift.objects.select_for_update().filter(tenant=tenant, cleared_at=None).first()
        if not changes:
            if episode is not None:
                episode.cleared_at = now
                episode.save(update_fields=["cleared_at"])
                logger.info("drift of tenant %s cleared", tenant.external_id)
                drift_changed.send(sender=Drift, tenant=tenant)
            return None
        summaries = [change.summary() for change in changes]
        if episode is not None:
            changed = episode.changes != summaries
            episode.last_seen_at, episode.changes, episode.version = now, summaries, version
            episode.save(update_fields=["last_seen_at", "changes", "version"])
            if changed:
                drift_changed.send(sender=Drift, tenant=tenant)
            return episode
        episode = Drift.objects.create(
            tenant=tenant, version=version, found_at=now, last_seen_at=now, changes=summaries
        )
        drift_changed.send(sender=Drift, tenant=tenant)
        event_record(
            tenant=tenant,
            event_type=EventType.TENANT_DRIFTED,
            data={
                "version": version.version,
                "found_at": now,
                "changes": [{"change": s["change"], "reason": s["reason"]} for s in summaries],
            },
            dedupe_key=f"tenant-drifted:{episode.pk}",
        )
        logger.warning(
            "tenant %s drifted from version %s: %d changes",
            tenant.external_id,
            version.version,
            len(changes),
        )
        if tenant.template.drift_action == "repair":
            gone = isinstance(changes[0], CloneIntegration)
            episode.repair_job = _repair(tenant, gone=gone)
            episode.save(update_fields=["repair_job"])
    return episode


def drift_check_due(
    *, clients: Callable[[IntegratorAccount], IntegratorClient], tally: CallTally | None = None
) -> DriftReport:
    """One tick of the periodic check: the due tenants, up to the batch size, each read with
    `clients(tenant.account)`. `tally`, the clients' `on_call` hook, is told which tenant each
    check is for (its costs, `plan`)."""
    return _check_each(
        tenants_due_for_check(limit=settings.DRIFT_CHECK_BATCH), clients=clients, tally=tally
    )


def drift_check_all(
    *,
    clients: Callable[[IntegratorAccount], IntegratorClient],
    tally: CallTally | None = None,
    progress: Callable[[DriftReport], None] | None = None,
) -> DriftReport:
    """Every live tenant now, whatever its last check (`manage.py check_drift`): an operator
    who has just changed something in integrator.io asks about it now, and the periodic check
    would leave every tenant it saw within DRIFT_CHECK_INTERVAL_SECONDS alone. Read a batch
    at a time, by id; a tenant with an unfinished job is left out, as by the tick (its job is
    changing it). `progress` is told the counts so far after each batch."""
    reports, after = [DriftReport(0, 0, 0, 0, 0)], 0
    while True:
        batch = list(
            _live_without_busy_job()
            .filter(pk__gt=after)
            .order_by("pk")[: settings.DRIFT_CHECK_BATCH]
        )
        if not batch:
            break
        after = batch[-1].pk
        reports.append(_check_each(_with_versions(batch), clients=clients, tally=tally))
        if progress is not None:
            progress(_total(reports))
    return _total(reports)


def drift_checkable_count() -> int:
    """How many tenants `drift_check_all` would check now."""
    return _live_without_busy_job().count()


def _total(reports: list[DriftReport]) -> DriftReport:
    return DriftReport(
        *(sum(counts) for counts in zip(*map(dataclasses.astuple, reports), strict=True))
    )


def _check_each(
    tenants: list[Tenant],
    *,
    clients: Callable[[IntegratorAccount], IntegratorClient],
    tally: CallTally | None,
) -> DriftReport:
    checked = drifted = cleared = errors = repairs = 0
    for tenant in tenants:
        if tally is not None:
            tally.attribute(tenant_id=tenant.pk, purpose=CallPurpose.PLAN)
        was_open = Drift.objects.filter(tenant=tenant, cleared_at=None).exists()
        try:
            episode = drift_check(tenant=tenant, client=clients(tenant.account))
        except DriftCheckInterrupted as error:
            # Not recorded as checked: still due, it is checked once its job has ended.
            errors += 1
            logger.info("drift check of tenant %s set aside: %s", tenant.external_id, error)
            continue
        except (ApplicationError, IntegratorError) as error:
            errors += 1
            DriftCheck.objects.update_or_create(
                tenant=tenant,
                defaults={"checked_at": timezone.now(), "error": _check_error(tenant, error)[:500]},
            )
            logger.info("drift check of tenant %s not made: %s", tenant.external_id, error)
            continue
        checked += 1
        if episode is not None:
            drifted += 1
            repairs += int(not was_open and episode.repair_job_id is not None)
        elif was_open:
            cleared += 1
    for result, count in (("clean", checked - drifted), ("drifted", drifted), ("error", errors)):
        if count:
            metrics.record_safely(metrics.DRIFT_CHECKS.labels(result).inc, count)
    return DriftReport(checked, drifted, cleared, errors, repairs)


def _check_error(tenant: Tenant, error: Exception) -> str:
    """Why a check could not compare, as the drift API shows it. integrator.io refusing the
    account's own token is said so, naming the account and how an operator replaces it: its
    bare "401: the bearer token is missing" read to a host app as its own key refused."""
    if isinstance(error, AuthenticationError):
        return remote_error_for_caller(
            error, not_done="the drift check was not made", account=tenant.account
        ).message
    return str(error)


def _repair(tenant: Tenant, *, gone: bool) -> Job | None:
    """A reconcile to the tenant's own version, or a repair when its integration is gone (a
    repair clones it again); None when another job came first."""
    try:
        if gone:
            return job_request(tenant=tenant, kind=JobKind.REPAIR, requested_by=JobOrigin.SCHEDULE)
        return job_request(
            tenant=tenant,
            kind=JobKind.UPGRADE,
            requested_by=JobOrigin.SCHEDULE,
            target_version=tenant.template_version,
        )
    except ApplicationError as error:
        logger.info("drift repair of tenant %s not queued: %s", tenant.external_id, error)
        return None

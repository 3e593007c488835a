"""A tenant's health, rolled up from its mirrored runs and its connections' last checks.

The rules, which move a tenant between `active` and `degraded`:
1. A flow is failing when its last RUNS_FAILED_RUNS_TO_DEGRADE finished runs all `failed`.
   Runs that completed with record errors are not failures (they count in `errors_24h`);
   canceled runs are someone's decision and do not count either way. Flows that are
   disabled or no longer in the integration are not judged: they will not run again.
2. A connection is offline when its last scheduled check (a ping) failed.
3. The integration is broken when the drift check (provisioning.drift) found a part of it
   gone or miswired: the integration itself or a flow deleted in integrator.io, a step
   pointed at another connection than the tenant's. No run can tell: a deleted integration
   simply stops sending any. Other drift (an edited schedule or field) is not judged here:
   the integration still runs, and the drift record says what differs.
4. Any failing flow, offline connection or broken part is a problem. An `active` tenant with
   a problem becomes `degraded` (event `tenant.degraded`, the reasons in `last_error`); a
   tenant that these rules degraded becomes `active` again once it has none (event
   `tenant.recovered`).
   A tenant degraded for another reason (e.g. a failed repair job) is left alone: those
   rules do not get to undo another component's decision.

What the health `status` says, one meaning each (the API documents the same):
- `unknown`: nothing can be said yet: the tenant's integration is not live (the tenant is
  not active or degraded), or it has not been looked at, or no run of it has finished.
- `unhealthy`: the tenant is degraded, for the reasons listed (a failing flow, an offline
  connection, a broken integration, or whatever degraded it, e.g. a failed job).
- `healthy`: the tenant is active, at least one run has finished, and nothing above holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from provisioning.models import Drift
from runs.models import (
    FINISHED_RUN_STATUSES,
    FlowRun,
    HealthStatus,
    RunStatus,
    SyncState,
    TenantFlow,
    TenantHealth,
)
from tenants.models import ConnectionStatus, Tenant, TenantConnection, TenantStatus
from tenants.services import tenant_transition

# Runs older than this are not looked at for the failing-flow rule (integrator.io purges
# jobs after 30 days anyway).
FAILING_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class HealthRollup:
    status: str
    reasons: list[str]
    # A failing flow, an offline connection or a broken integration: what the rules degrade a
    # tenant for.
    has_problems: bool
    last_run: FlowRun | None
    last_success_at: datetime | None
    runs_24h: int
    failed_runs_24h: int
    errors_24h: int
    failing_flows: list[dict] = field(default_factory=list)
    offline_connections: list[dict] = field(default_factory=list)


def _failing_flows(*, tenant: Tenant, now: datetime) -> list[dict]:
    streak = settings.RUNS_FAILED_RUNS_TO_DEGRADE
    latest = (
        FlowRun.objects.filter(
            tenant=tenant,
            status__in=[RunStatus.COMPLETED, RunStatus.FAILED],
            created_at__gte=now - FAILING_LOOKBACK,
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("flow_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(position__lte=streak)
        .values_list("flow_id", "status")
    )
    outcomes: dict[str, list[str]] = {}
    for flow_id, status in latest:
        outcomes.setdefault(flow_id, []).append(status)
    flows = {flow.flow_id: flow for flow in TenantFlow.objects.filter(tenant=tenant)}
    failing = []
    for flow_id, statuses in sorted(outcomes.items()):
        flow = flows.get(flow_id)
        if flow is not None and (flow.disabled or flow.removed_at is not None):
            continue
        if len(statuses) == streak and all(s == RunStatus.FAILED for s in statuses):
            failing.append(
                {"flow_id": flow_id, "name": flow.name if flow else "", "failed_runs": streak}
            )
    return failing


def _offline_connections(*, tenant: Tenant) -> list[dict]:
    rows = TenantConnection.objects.filter(tenant=tenant, status=ConnectionStatus.FAILED)
    return [
        {
            "slot": row.slot_key,
            "connection_id": row.connection_id or None,
            "last_ping_at": row.last_ping_at,
            "error": row.last_ping_error or None,
        }
        for row in rows.order_by("slot_key")
    ]


# The changes of a drift plan that say a part of the integration is gone or miswired (rule 3),
# by the kind `Change.summary()` records.
_BREAKING_CHANGES = frozenset({"CloneIntegration", "AddFlow", "ReplaceConnection"})


def _broken_parts(*, tenant: Tenant) -> list[str]:
    """Rule 3's reasons, from the tenant's open drift episode (none when there is none)."""
    episode = Drift.objects.filter(tenant=tenant, cleared_at=None).only("changes").first()
    if episode is None:
        return []
    reasons = []
    for change in episode.changes or []:
        kind = change.get("change")
        if kind == "CloneIntegration":
            reasons.append("The integration is gone from integrator.io (deleted there).")
        elif kind == "AddFlow":
            name = next((entry[2] for entry in change.get("diff") or [] if entry[0] == "name"), "")
            reasons.append(f"Flow {name!r} is gone from the integration (deleted there).")
        elif kind in _BREAKING_CHANGES:
            reasons.append(change.get("reason") or "A step uses another connection.")
    return reasons


def _slot_named(tenant: Tenant, slot_key: str) -> str:
    """A slot as people see it (its label, as the admin, the API and the customer's pages show
    the connection), with its key for the API's paths: "'Online shop' (shop)"."""
    slot = tenant.template_version.slot(slot_key) if tenant.template_version_id else None
    label = (slot or {}).get("label") or ""
    if not label or label == slot_key:
        return repr(slot_key)
    return f"{label!r} ({slot_key})"


def health_rollup(*, tenant: Tenant, now: datetime | None = None) -> HealthRollup:
    """The tenant's health now, computed from the mirror (a handful of indexed queries)."""
    now = now or timezone.now()
    runs = FlowRun.objects.filter(tenant=tenant)
    last_run = runs.order_by("-created_at", "-id").first()
    last_success = runs.filter(status=RunStatus.COMPLETED).order_by("-created_at", "-id").first()
    day = runs.filter(created_at__gte=now - timedelta(hours=24)).aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(status=RunStatus.FAILED)),
        errors=Sum("num_error"),
    )
    failing = _failing_flows(tenant=tenant, now=now)
    offline = _offline_connections(tenant=tenant)
    broken = _broken_parts(tenant=tenant)
    reasons = (
        [
            f"Flow {flow['name'] or flow['flow_id']!r} failed its last {flow['failed_runs']} runs."
            for flow in failing
        ]
        + [
            f"Connection {_slot_named(tenant, connection['slot'])} failed its last check"
            + (f": {connection['error']}" if connection["error"] else ".")
            for connection in offline
        ]
        + broken
    )
    status, reasons = _status(tenant, reasons, any_finished=last_run_finished(runs))
    return HealthRollup(
        status=status,
        reasons=reasons,
        has_problems=bool(failing or offline or broken),
        last_run=last_run,
        last_success_at=(last_success.ended_at or last_success.created_at)
        if last_success
        else None,
        runs_24h=day["total"] or 0,
        failed_runs_24h=day["failed"] or 0,
        errors_24h=day["errors"] or 0,
        failing_flows=failing,
        offline_connections=offline,
    )


def last_run_finished(runs) -> bool:
    return runs.filter(status__in=FINISHED_RUN_STATUSES).exists()


def _status(tenant: Tenant, problems: list[str], *, any_finished: bool) -> tuple[str, list[str]]:
    """The health status and its reasons (see the module docstring)."""
    if tenant.status not in (TenantStatus.ACTIVE, TenantStatus.DEGRADED):
        return HealthStatus.UNKNOWN, [
            f"The tenant is {tenant.status}: its integration is not live."
        ]
    if problems:
        return HealthStatus.UNHEALTHY, problems
    if tenant.status == TenantStatus.DEGRADED:
        return HealthStatus.UNHEALTHY, [tenant.last_error or "The tenant is degraded."]
    looked_at = SyncState.objects.filter(
        Q(last_synced_at__isnull=False) | Q(last_checked_at__isnull=False), tenant=tenant
    ).exists()
    if not looked_at or not any_finished:
        return HealthStatus.UNKNOWN, ["No run of the integration has finished yet."]
    return HealthStatus.HEALTHY, []


def tenant_health_evaluate(*, tenant: Tenant, now: datetime | None = None) -> HealthRollup:
    """Store the tenant's rollup and apply the rules (see the module docstring)."""
    now = now or timezone.now()
    rollup = health_rollup(tenant=tenant, now=now)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        health, _ = TenantHealth.objects.select_for_update().get_or_create(
            tenant=locked, defaults={"computed_at": now}
        )
        if locked.status != TenantStatus.DEGRADED:
            health.degraded_by_health = False
        if rollup.has_problems and locked.status == TenantStatus.ACTIVE:
            tenant_transition(
                tenant=locked, to=TenantStatus.DEGRADED, error=" ".join(rollup.reasons)
            )
            health.degraded_by_health = True
        elif (
            not rollup.has_problems
            and locked.status == TenantStatus.DEGRADED
            and health.degraded_by_health
        ):
            tenant_transition(tenant=locked, to=TenantStatus.ACTIVE, error="")
            health.degraded_by_health = False
        elif (
            rollup.has_problems
            and health.degraded_by_health
            and locked.last_error == " ".join(health.reasons)
        ):
            # Still degraded by these rules, maybe for other problems than those that
            # degraded it (a flow failing now, the connection fixed since): `last_error`
            # says what is wrong now. Only while it is these rules' own words (a failed job's
            # error is that job's to clear). No second `tenant.degraded`: one per episode.
            reason = " ".join(rollup.reasons)
            if locked.last_error != reason:
                Tenant.objects.filter(pk=locked.pk).update(last_error=reason, updated_at=now)
                locked.last_error = reason
        if locked.status != tenant.status:
            # The rules just moved the tenant: the status they report follows the move.
            rollup = health_rollup(tenant=locked, now=now)
        health.status = rollup.status
        health.reasons = rollup.reasons
        health.last_run_at = rollup.last_run.created_at if rollup.last_run else None
        health.last_run_status = rollup.last_run.status if rollup.last_run else ""
        health.last_success_at = rollup.last_success_at
        health.runs_24h = rollup.runs_24h
        health.failed_runs_24h = rollup.failed_runs_24h
        health.errors_24h = rollup.errors_24h
        health.failing_flows = rollup.failing_flows
        health.offline_connections = _json_ready(rollup.offline_connections)
        health.computed_at = now
        health.save()
    tenant.status = locked.status
    tenant.status_changed_at = locked.status_changed_at
    tenant.last_error = locked.last_error
    return rollup


def _json_ready(connections: list[dict]) -> list[dict]:
    return [
        {**c, "last_ping_at": c["last_ping_at"].isoformat() if c["last_ping_at"] else None}
        for c in connections
    ]


# --- the stored health, as it is shown beside the tenant -------------------------------------
# TenantHealth is written when runs are synced or connections checked. The tenant's status can
# move in between (a provision that finishes, a repair that fails, a deprovision), and a row
# written before these rules held may say "healthy" with no run at all. Lists and pages that
# show the stored row beside the tenant read it through the rules above, so that it never
# contradicts the tenant next to it; the next evaluation stores the same answer.

NOT_EVALUATED = "Not evaluated yet: health is computed when the tenant's runs are synced."
NO_RUN_FINISHED = "No run of the integration has finished yet."


def health_shown(*, tenant: Tenant, health: TenantHealth | None) -> tuple[str, list[str]]:
    """The status and reasons to show for the tenant's stored health (see above), on the
    admin's pages: its status as they show it ("Awaiting credentials"), where the API's
    reasons (`health_rollup`) give the raw value."""
    if tenant.status not in (TenantStatus.ACTIVE, TenantStatus.DEGRADED):
        return HealthStatus.UNKNOWN, [
            f"The tenant is {tenant.get_status_display()}: its integration is not live."
        ]
    if tenant.status == TenantStatus.DEGRADED:
        if health is not None and health.status == HealthStatus.UNHEALTHY and health.reasons:
            return HealthStatus.UNHEALTHY, list(health.reasons)
        return HealthStatus.UNHEALTHY, [tenant.last_error or "The tenant is degraded."]
    if health is None:
        return HealthStatus.UNKNOWN, [NOT_EVALUATED]
    if health.status == HealthStatus.UNHEALTHY:
        # Active again since (a repair, say): computed again at the next sync.
        return HealthStatus.UNKNOWN, [
            "The tenant is active again since health was last computed; the next sync "
            "computes it again.",
            *(f"Last found: {reason}" for reason in health.reasons),
        ]
    if health.status == HealthStatus.HEALTHY and health.last_run_at is None:
        return HealthStatus.UNKNOWN, [NO_RUN_FINISHED]
    return health.status, list(health.reasons)


# The same rules as filters on tenants (unknown is whatever is neither).
HEALTH_SHOWN_FILTERS = {
    HealthStatus.HEALTHY: Q(
        status=TenantStatus.ACTIVE,
        health__status=HealthStatus.HEALTHY,
        health__last_run_at__isnull=False,
    ),
    HealthStatus.UNHEALTHY: Q(status=TenantStatus.DEGRADED),
}

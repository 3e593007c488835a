"""Who a rollout moves, in which wave, and who it skips: one computation for the dry run and
for the start, so that the dry run shows exactly what starting would do."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from provisioning.desired_states import tenant_settings_for_version
from provisioning.errors import SettingsDoNotFitVersion, VersionWithoutSnapshot
from rollouts.errors import RolloutInvalid, VersionRetired
from rollouts.estimates import rollout_cost_estimate
from rollouts.models import RolloutStrategy, RolloutTenantState
from tenants.models import IntegrationTemplate, TemplateVersion, Tenant, TenantStatus

# The statuses in which a tenant has an integration an upgrade job may change (the ones
# provisioning's job_request accepts an upgrade in). Others are not in the rollout at all: a
# tenant still being provisioned is built to its own version, one deprovisioned is gone.
UPGRADABLE_STATUSES = (TenantStatus.ACTIVE, TenantStatus.DEGRADED, TenantStatus.FAILED)
MAX_PAUSE_SECONDS = 7 * 24 * 3600
# Far more tenants than a deployment has; what the column holds, with room to spare.
MAX_WAVE_SIZE = 1_000_000


@dataclass(frozen=True)
class RolloutSpec:
    """What a rollout is asked to do, checked by `spec_check`."""

    strategy: str
    canary_tenants: list[str] = field(default_factory=list)
    wave_percent: int | None = None
    wave_size: int | None = None
    pause_seconds: int = 0
    max_failure_rate: float = 0.0


@dataclass
class RolloutPlan:
    template: IntegrationTemplate
    to_version: TemplateVersion
    spec: RolloutSpec
    # Wave 1 first; each a list of tenants.
    waves: list[list[Tenant]]
    # (tenant, state), state one of the skipped ones.
    skipped: list[tuple[Tenant, str]]

    @property
    def tenant_count(self) -> int:
        return sum(len(wave) for wave in self.waves)

    def summary(self) -> dict:
        """The dry run's answer."""
        estimates, problems = {}, {}
        for wave in self.waves:
            for tenant in wave:
                try:
                    # Its upgrade would be refused, failing its wave: said here, not left out.
                    tenant_settings_for_version(tenant=tenant, version=self.to_version)
                except SettingsDoNotFitVersion as error:
                    problems[tenant.external_id] = {
                        "code": error.code,
                        "message": error.message,
                        "fields": error.fields,
                    }
                    continue
                estimate = rollout_cost_estimate(tenant, self.to_version)
                if estimate is not None:
                    estimates[tenant.external_id] = estimate
        summary = {
            "dry_run": True,
            "template": self.template.key,
            "to_version": self.to_version.version,
            "tenants": self.tenant_count,
            "waves": [
                {
                    "wave": number,
                    "tenants": len(wave),
                    "external_ids": [tenant.external_id for tenant in wave],
                }
                for number, wave in enumerate(self.waves, start=1)
            ],
            "skipped": [
                {
                    "external_id": tenant.external_id,
                    "reason": state,
                    "version": tenant.template_version.version,
                    "canary": tenant.external_id in self.spec.canary_tenants,
                }
                for tenant, state in self.skipped
            ],
        }
        if problems:
            summary["problems"] = problems
        if estimates:
            summary["estimates"] = estimates
            kinds: Counter = Counter()
            for estimate in estimates.values():
                kinds.update(estimate.get("by_kind", {}))
            summary["totals"] = {
                "api_calls": sum(e.get("api_calls", 0) for e in estimates.values()),
                "changes_by_kind": dict(sorted(kinds.items())),
                "tenants_estimated": len(estimates),
            }
        return summary


def spec_check(spec: RolloutSpec) -> None:
    """Every rule of the request's shape, all problems at once (400 with `fields`)."""
    problems: dict[str, list[str]] = {}
    if spec.strategy not in RolloutStrategy.values:
        problems["strategy"] = [f"One of {', '.join(RolloutStrategy.values)}."]
    if not 0 <= spec.max_failure_rate <= 1:
        problems["max_failure_rate"] = ["A number from 0 to 1."]
    if not 0 <= spec.pause_seconds <= MAX_PAUSE_SECONDS:
        problems["pause_seconds"] = [f"From 0 to {MAX_PAUSE_SECONDS} (a week)."]
    if spec.wave_percent is not None and not 1 <= spec.wave_percent <= 100:
        problems["wave_percent"] = ["A whole number from 1 to 100."]
    if spec.wave_size is not None and not 1 <= spec.wave_size <= MAX_WAVE_SIZE:
        problems["wave_size"] = [f"From 1 to {MAX_WAVE_SIZE}."]
    if spec.wave_percent is not None and spec.wave_size is not None:
        problems["wave_size"] = ["Give wave_percent or wave_size, not both."]
    if spec.strategy == RolloutStrategy.PERCENT:
        if spec.wave_percent is None:
            problems.setdefault("wave_percent", ["Required by the percent strategy."])
        if spec.canary_tenants:
            problems["canary_tenants"] = ["Only the canary strategy takes canary tenants."]
    if spec.strategy == RolloutStrategy.CANARY:
        if not spec.canary_tenants:
            problems["canary_tenants"] = ["The canary strategy needs at least one tenant."]
        if spec.wave_percent is None and spec.wave_size is None:
            problems["wave_size"] = ["Give wave_size or wave_percent for the waves after it."]
    if len(set(spec.canary_tenants)) != len(spec.canary_tenants):
        problems["canary_tenants"] = ["Each tenant once."]
    if problems:
        raise RolloutInvalid("The rollout is not valid; see fields.", fields=problems)


def rollout_plan(
    *, template: IntegrationTemplate, to_version: TemplateVersion, spec: RolloutSpec
) -> RolloutPlan:
    """The waves as they would be now. Reads; writes nothing."""
    spec_check(spec)
    if to_version.template_id != template.pk:
        raise RolloutInvalid(
            "That version belongs to another template.",
            fields={"to_version": [f"Not a version of {template.key}."]},
        )
    if to_version.retired_at is not None:
        raise VersionRetired(
            f"Version {to_version.version} of {template.key} is retired; roll out another."
        )
    tenants = list(rollout_candidates(template=template))
    # The template's few versions, read once and shared: joined per row, each tenant would
    # decode its version's snapshot again (2.5 s for 4,500 tenants).
    versions = TemplateVersion.objects.in_bulk({tenant.template_version_id for tenant in tenants})
    for tenant in tenants:
        tenant.template_version = versions[tenant.template_version_id]
    by_id = {tenant.external_id: tenant for tenant in tenants}
    unknown = [external_id for external_id in spec.canary_tenants if external_id not in by_id]
    if unknown:
        raise RolloutInvalid(
            "Canary tenants must be current tenants of the template with an integration "
            f"(active, degraded or failed): {', '.join(unknown)}.",
            fields={"canary_tenants": [f"Not eligible: {', '.join(unknown)}."]},
        )
    skipped, movable = [], []
    for tenant in tenants:
        state = skip_reason(tenant, to_version)
        if state is None:
            movable.append(tenant)
        else:
            skipped.append((tenant, state))
    if movable:
        # Only when someone would move: a rollout nobody needs is nothing_to_roll_out.
        version_snapshot_check(to_version)
    canaries = [by_id[e] for e in spec.canary_tenants if skip_reason(by_id[e], to_version) is None]
    if movable and spec.canary_tenants and not canaries:
        # Every canary skipped: the first wave would be a plain one, the rollout no canary.
        why = ", ".join(
            _skipped_words(by_id[external_id], to_version) for external_id in spec.canary_tenants
        )
        raise RolloutInvalid(
            "No canary tenant would move; see fields.",
            fields={
                "canary_tenants": [
                    f"No canary would move, so there would be no canary wave: {why}. Name a "
                    "canary that moves, or use the percent strategy."
                ]
            },
        )
    rest = [tenant for tenant in movable if tenant.external_id not in spec.canary_tenants]
    size = spec.wave_size or math.ceil(len(movable) * (spec.wave_percent or 100) / 100) or 1
    waves = [canaries] if canaries else []
    waves += [rest[start : start + size] for start in range(0, len(rest), size)]
    return RolloutPlan(
        template=template, to_version=to_version, spec=spec, waves=waves, skipped=skipped
    )


def version_snapshot_check(version: TemplateVersion) -> None:
    """An upgrade job to a version published without a snapshot (--offline) always fails
    (version_without_snapshot): refuse moving tenants to it up front, rather than start a
    rollout whose first wave fails and halts it."""
    if not version.snapshot:
        raise VersionWithoutSnapshot(
            f"Version {version.version} of {version.key} was published without a snapshot of "
            "its template integration (--offline): existing tenants cannot be moved to it. "
            "Publish the template again as a new version while integrator.io is reachable."
        )


def rollout_candidates(*, template: IntegrationTemplate):
    """The template's current tenants that have an integration to upgrade, by external id
    (docs/performance.md shows the plan of this query at 50,000 tenants)."""
    return (
        Tenant.objects.filter(
            template=template, superseded_at__isnull=True, status__in=UPGRADABLE_STATUSES
        )
        .exclude(integration_id="")
        .order_by("external_id")
    )


def _skipped_words(tenant: Tenant, to_version: TemplateVersion) -> str:
    if skip_reason(tenant, to_version) == RolloutTenantState.SKIPPED_ALREADY:
        return f"{tenant.external_id} is already on {to_version.version}"
    return f"{tenant.external_id} is pinned to {tenant.template_version.version}"


def skip_reason(tenant: Tenant, to_version: TemplateVersion) -> str | None:
    """Why a rollout leaves the tenant alone, as the state it records; None to move it."""
    if tenant.template_version_id == to_version.pk:
        return RolloutTenantState.SKIPPED_ALREADY
    if tenant.version_pinned:
        return RolloutTenantState.SKIPPED_PINNED
    return None

"""Reading rollouts: one, a list, their tenants and progress, a tenant's history."""

from __future__ import annotations

import uuid
from collections import Counter

from django.db.models import Count, QuerySet

from rollouts.errors import RolloutNotFound, VersionNotFound
from rollouts.models import Rollout, RolloutTenant, RolloutTenantState
from tenants.models import IntegrationTemplate, TemplateVersion, Tenant


def rollout_get(*, rollout_id: str | uuid.UUID) -> Rollout:
    try:
        key = uuid.UUID(str(rollout_id))
    except ValueError:
        raise RolloutNotFound(f"No rollout with id {rollout_id!r}.") from None
    rollout = Rollout.objects.select_related("template", "to_version").filter(pk=key).first()
    if rollout is None:
        raise RolloutNotFound(f"No rollout with id {rollout_id!r}.")
    return rollout


def rollout_list(*, template_key: str | None = None, status: str | None = None) -> QuerySet:
    rollouts = Rollout.objects.select_related("template", "to_version")
    if template_key:
        rollouts = rollouts.filter(template__key=template_key)
    if status:
        rollouts = rollouts.filter(status=status)
    return rollouts


def rollout_tenant_list(*, rollout: Rollout, state: str | None = None) -> QuerySet:
    entries = RolloutTenant.objects.filter(rollout=rollout).select_related(
        "tenant", "from_version", "job", "rollback_job"
    )
    if state:
        entries = entries.filter(state=state)
    return entries


def rollout_progress(*, rollout: Rollout) -> dict:
    """Tenant counts by state, overall and per wave (wave 0: skipped from the start), and
    each finished wave's failure rate: what the API and the admin show. Counted by the
    database (one row per wave and state): a rollout over a fleet has a row per tenant, and
    the admin's list asks this for every rollout it shows."""
    rows = (
        RolloutTenant.objects.filter(rollout=rollout)
        .order_by()
        .values_list("wave", "state")
        .annotate(tenants=Count("id"))
    )
    overall: Counter = Counter()
    by_wave: dict[int, Counter] = {}
    for wave, state, tenants in rows:
        overall[state] += tenants
        by_wave.setdefault(wave, Counter())[state] += tenants
    waves = []
    for wave in range(1, rollout.wave_count + 1):
        counts = by_wave.get(wave, Counter())
        waves.append(
            {
                "wave": wave,
                "tenants": sum(counts.values()),
                "states": {state: counts[state] for state in RolloutTenantState.values},
                "failure_rate": wave_failure_rate(counts),
            }
        )
    return {
        "states": {state: overall[state] for state in RolloutTenantState.values},
        "waves": waves,
    }


def wave_state_counts(*, rollout: Rollout, wave: int) -> Counter:
    """One wave's tenants by state, counted by the database (the driver judges a wave by it)."""
    rows = (
        RolloutTenant.objects.filter(rollout=rollout, wave=wave)
        .order_by()
        .values_list("state")
        .annotate(tenants=Count("id"))
    )
    return Counter(dict(rows))


def wave_failure_rate(counts: Counter | dict) -> float | None:
    """Failed over finished (moved, failed or moved back); None before any finished. Skipped
    tenants did not try, so they count neither way."""
    failed = counts.get(RolloutTenantState.FAILED, 0)
    finished = failed + counts.get(RolloutTenantState.SUCCEEDED, 0)
    finished += counts.get(RolloutTenantState.ROLLED_BACK, 0)
    return failed / finished if finished else None


def tenant_rollout_history(*, tenant: Tenant) -> QuerySet:
    return (
        RolloutTenant.objects.filter(tenant=tenant)
        .select_related("rollout", "rollout__to_version", "from_version")
        .order_by("-rollout__created_at", "-id")
    )


def template_version_get(*, template: IntegrationTemplate, version: str) -> TemplateVersion:
    """One version of `template` by its name, e.g. "1.2.0"."""
    found = TemplateVersion.objects.filter(template=template, version=version).first()
    if found is None:
        raise VersionNotFound(
            f"The template {template.key!r} has no published version {version!r}.",
            fields={"to_version": [f"Not a version of {template.key}."]},
        )
    return found

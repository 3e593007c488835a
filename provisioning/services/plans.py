"""What a reconcile would change in a tenant's integration, without changing anything (a dry
run): for the API's `GET /tenants/{id}/plan` and the admin's tenant page."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import takewhile

from core.integrator_client import build_integrator_client, remote_error_for_caller
from integrator.errors import IntegratorError
from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.reconcile import simulate
from provisioning.reconcile.apply import resolvable
from provisioning.reconcile.changes import Change
from provisioning.reconcile.observe import OBSERVE_CALLS, observe
from provisioning.reconcile.planner import plan
from provisioning.reconcile.simulate import api_calls, as_observed
from provisioning.reconcile.state import DesiredState, ObservedState
from provisioning.steps.reconcile import MAX_ROUNDS
from tenants.call_costs import CallTally
from tenants.errors import TemplateVersionNotFound, TenantGone
from tenants.models import CallPurpose, TemplateVersion, Tenant
from tenants.services.tenants import GONE_STATUSES


@dataclass(frozen=True)
class PlanPreview:
    version: TemplateVersion
    integration_id: str | None
    changes: tuple[Change, ...]
    # The calls the reconcile carrying them out makes: its writes and its reads.
    api_calls: int


@dataclass(frozen=True)
class ReconcileEstimate:
    """What the reconcile step would do to take `observed` to `desired`: the one estimate of
    the tenant plan and the rollout dry run (rollouts.estimates)."""

    changes: tuple[Change, ...]
    api_calls: int


def reconcile_estimate(*, desired: DesiredState, observed: ObservedState) -> ReconcileEstimate:
    """The changes the reconcile step carries out, round by round as it does (each round up
    to the first change naming a flow added in it), in the model of integrator.io
    (`simulate`): a plan's changes to an added flow's copies are not made when the clone
    already holds them. Its calls: the changes' writes (`simulate.api_calls`) and the four
    reads of every round (`observe`), the last of which only confirms that nothing is left.
    Retries of failed calls are not counted: on a good day the job makes exactly these."""
    state, source = observed, as_observed(desired)
    done: list[Change] = []
    reads = 0
    for _ in range(MAX_ROUNDS):
        reads += OBSERVE_CALLS if state.integration_id else 0
        changes = plan(desired, state)
        if not changes:
            break
        # A CloneIntegration is resolvable too; what follows it names the clone's ids.
        prefix = list(takewhile(resolvable, changes))
        done += prefix
        state = simulate.apply(state, prefix, source=source)
    return ReconcileEstimate(changes=tuple(done), api_calls=api_calls(done) + reads)


def tenant_plan_preview(*, tenant: Tenant, version: str | None = None) -> PlanPreview:
    """The plan that would bring the tenant's integration to `version` of its template (its
    own version when None). Reads integrator.io (four calls), writes nothing. A tenant being
    or already deprovisioned has nothing to plan (its integration is gone or going): 409, as
    every change to it is, rather than a plan that would clone it again."""
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; there is no integration to plan for.")
    target = tenant.template_version
    if version is not None:
        target = TemplateVersion.objects.filter(
            template_id=tenant.template_id, version=version
        ).first()
        if target is None:
            # Named in the query: the same 404 as a version named in a path.
            raise TemplateVersionNotFound(
                f"The template {tenant.template.key!r} has no published version {version!r}."
            )
    desired = tenant_desired_state(
        tenant=tenant,
        version=target,
        connection_map=tenant_connection_map(tenant=tenant, version=target),
    )
    tally = CallTally(tenant_id=tenant.pk, purpose=CallPurpose.PLAN)
    try:
        with build_integrator_client(
            account=tenant.account, interactive=True, on_call=tally
        ) as client:
            observed = observe(client, tenant.integration_id or None)
    except IntegratorError as error:
        raise remote_error_for_caller(
            error, not_done="no plan was made", account=tenant.account
        ) from None
    finally:
        tally.flush()
    estimate = reconcile_estimate(desired=desired, observed=observed)
    return PlanPreview(
        version=target,
        integration_id=observed.integration_id,
        changes=estimate.changes,
        api_calls=estimate.api_calls,
    )

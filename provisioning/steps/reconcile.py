"""Moving a tenant's integration to a version of its template: observe, plan, apply.

The step builds the desired state from the target version (its snapshot, settings schema and
mapping), the tenant's settings and connections; then, round after round, reads what
integrator.io holds, plans (provisioning.reconcile.planner) and carries the plan out
(provisioning.reconcile.apply) until the plan is empty. A round stops at the first change
that names a flow (or its steps) added in this round: it needs their ids, which the next
round reads. The last round only confirms (its plan is empty).
Resumed after a crash, the step simply plans again: what took effect is not planned twice.
The runner moves the tenant to the target version when the job succeeds.
"""

from __future__ import annotations

from integrator.errors import NotFoundError, ValidationError
from provisioning.desired_states import tenant_desired_state
from provisioning.errors import StepFailed
from provisioning.models import JobKind
from provisioning.reconcile.apply import change_apply, resolvable
from provisioning.reconcile.changes import AddFlow
from provisioning.reconcile.observe import observe
from provisioning.reconcile.planner import plan
from provisioning.reconcile.state import DesiredState
from provisioning.settings_digest import settings_digest
from provisioning.steps.context import StepContext
from provisioning.steps.provision import (
    fresh_clone_flows,
    integration_gone,
    integration_id_required,
)
from tenants.models import TemplateVersion
from tenants.settings_mapping import settings_mapped

# Rounds of observe-plan-apply: one, plus one after adding flows, plus a spare for a change
# made by someone else meanwhile. A plan still not empty after them is a fault to look at.
MAX_ROUNDS = 4
# The changes listed in the step's output (the first ones; the count is always complete).
_LISTED = 100


def reconcile(ctx: StepContext) -> dict:
    version = ctx.job.target_version or ctx.template
    if not version.snapshot and ctx.job.kind != JobKind.UPGRADE:
        # A repair of a tenant whose version predates snapshots does what it always did.
        return {"skipped": "the version has no snapshot to reconcile to"}
    integration_id = integration_id_required(ctx)
    if version == ctx.template and _fresh_clone_is_the_version(ctx):
        return {
            "version": version.version,
            "rounds": 0,
            "changes": [],
            "changes_count": 0,
            "skipped": "a fresh clone of the version's snapshot, configured by the steps before",
        }
    # The tenant's own settings this desired state is made of: a job without a settings step
    # (an upgrade) re-runs this step if they changed meanwhile (provisioning.runner).
    overrides_digest = settings_digest(ctx.tenant.settings)
    desired = _desired(ctx, version)
    done: list[dict] = list(ctx.previous.get("changes", []))
    count = ctx.previous.get("changes_count", len(done))
    for round_number in range(1, MAX_ROUNDS + 1):
        observed = observe(ctx.client, integration_id)
        if not observed.exists:
            raise integration_gone(integration_id)
        changes = plan(desired, observed)
        if not changes:
            return {
                "version": version.version,
                "overrides_digest": overrides_digest,
                "rounds": round_number,
                "changes": done,
                "changes_count": count,
                "observed_flows": [
                    [f.id, f.name, f.disabled, f.source_id or ""] for f in observed.flows
                ],
            }
        for change in changes:
            if not resolvable(change):
                break
            if isinstance(change, AddFlow):
                # Intent before the POST: a resumed attempt knows a clone may have landed.
                ctx.save({"adding_flow": change.flow_source_id})
            try:
                change_apply(ctx.client, change, observed=observed)
            except (ValidationError, NotFoundError):
                _connections_deleted_check(ctx, version)
                raise
            count += 1
            if len(done) < _LISTED:
                done.append(change.summary())
        ctx.save({"changes": done, "changes_count": count})
    raise StepFailed(
        "not_converged",
        f"The integration still differs from version {version.version} after {MAX_ROUNDS} "
        "rounds of changes; something else is changing it. Look at the job's changes and "
        "retry.",
    )


def _connections_deleted_check(ctx: StepContext, version: TemplateVersion) -> None:
    """After integrator.io refused a change: if a connection of the tenant that the version's
    steps use was deleted there (and not entered again, which would have made a new one), say
    which and what to do, rather than integrator.io's words about a connectionMap or a
    `_connectionId`. Read only now, after a refusal: an upgrade that goes through pays nothing
    for it (and the dry run's estimates stay what the job does)."""
    slots = {slot["template_connection_id"]: slot for slot in version.slots}
    gone = []
    for template_connection_id, connection_id in ctx.connection_map().items():
        slot = slots.get(template_connection_id)
        if slot is None:
            continue
        try:
            ctx.client.get_connection(connection_id)
        except NotFoundError:
            gone.append(slot)
    if not gone:
        return
    labels = " and ".join(slot.get("label") or slot["key"] for slot in gone)
    paths = " and ".join(
        f"PUT /api/v1/tenants/{ctx.tenant.external_id}/connections/{slot['key']}" for slot in gone
    )
    if len(gone) == 1:
        which, it, its = f"The connection of {labels} no longer exists", "it", "its"
    else:
        which, it, its = f"The connections of {labels} no longer exist", "them", "their"
    # Entering them again queues the repair that moves the integration to the new ones; an
    # upgrade is then asked for again (a retry of this one would be replaced by that repair).
    then = "; then ask for the upgrade again." if ctx.job.kind == JobKind.UPGRADE else "."
    raise StepFailed(
        "connection_deleted",
        f"{which} in integrator.io (deleted there), and version {version.version} needs {it}. "
        f"Enter {its} credentials again (the credential form, or {paths}), which makes a new "
        f"connection and moves the integration to it{then}",
    )


def _fresh_clone_is_the_version(ctx: StepContext) -> bool:
    """Whether this job's clone already is the version: its manifest matched the snapshot and
    the template still held it (provisioning.clone_check), and the settings and enable steps
    wrote everything the version's mapping places, which they do unless the mapping places
    settings into exports or imports (those are the reconcile's to write, by their ids)."""
    if fresh_clone_flows(ctx) is None:
        return False
    mapped = settings_mapped(
        mapping=ctx.template.settings_mapping, settings=ctx.effective_settings()
    )
    return not mapped.step_fields


def _desired(ctx: StepContext, version: TemplateVersion) -> DesiredState:
    return tenant_desired_state(
        tenant=ctx.tenant, version=version, connection_map=ctx.connection_map()
    )

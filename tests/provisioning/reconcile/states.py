"""Building observed states for the tests: the tenant's integration exactly as a desired state
wants it, as observe would read it (secrets of exports and imports masked)."""

from __future__ import annotations

from provisioning.reconcile.changes import masked
from provisioning.reconcile.planner import plan
from provisioning.reconcile.simulate import apply
from provisioning.reconcile.state import DesiredState, ObservedFlow, ObservedState, ObservedStep


def realized(desired: DesiredState, *, integration_id: str = "int-1") -> ObservedState:
    """Each flow with its own copies of its steps, as flow clones make them."""
    specs = {spec.source_id: spec for spec in desired.steps}
    flows, steps = [], []
    for n, flow in enumerate(desired.flows, start=1):
        step_ids = []
        for m, source_id in enumerate(flow.step_source_ids, start=1):
            spec = specs[source_id]
            step = ObservedStep(
                id=f"s-{n}-{m}",
                source_id=source_id,
                kind=spec.kind,
                name=spec.name,
                connection_id=spec.connection_id,
                doc={name: masked(value, name=name) for name, value in spec.fields.items()},
            )
            steps.append(step)
            step_ids.append(step.id)
        flows.append(
            ObservedFlow(
                id=f"f-{n}",
                source_id=flow.source_id,
                name=flow.name,
                disabled=flow.disabled,
                schedule=flow.schedule,
                timezone=flow.timezone,
                settings=dict(flow.settings),
                step_ids=tuple(step_ids),
            )
        )
    return ObservedState(
        integration_id=integration_id,
        tag=desired.tag,
        name=desired.name,
        settings=dict(desired.settings),
        applied_version=desired.version,
        flows=tuple(flows),
        steps=tuple(steps),
    )


def converge(
    desired: DesiredState, observed: ObservedState, *, source: ObservedState, rounds: int = 3
) -> tuple[list, ObservedState]:
    """Plan and carry out (in the model) until the plan is empty, as apply does when it plans
    again after a clone; the plans made, and the state reached."""
    plans = []
    for _ in range(rounds):
        changes = plan(desired, observed)
        if not changes:
            return plans, observed
        plans.append(changes)
        observed = apply(observed, changes, source=source)
    raise AssertionError(f"not converged after {rounds} rounds: {plan(desired, observed)}")

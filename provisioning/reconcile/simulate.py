"""A model of what integrator.io does with each change, and what each costs in API calls.

For the property tests (a plan carried out leaves nothing to plan) and for a dry run's cost
estimate. It follows the sandbox's reading of the docs (sandbox/models/cloning.py,
docs/integrator-io.md "Integrations and cloning"):

- a clone copies every flow, export and import of `source` (the version's source integration,
  described as an ObservedState with the template's ids); each copy's `source_id` is the id
  it was copied from; connections go through the connection map (others stay as they were);
- a cloned flow has no schedule (documented) and keeps the source's `disabled` (an
  assumption: the sandbox's CLONE_KEEPS_DISABLED; the planner sets it explicitly anyway);
- an integration clone takes the name and tag it was given and the source's settings, and
  carries no applied-version marker;
- a flow clone copies that flow's exports and imports afresh, even ones another flow uses;
- new ids are deterministic: "sim-flow-1", "sim-step-1", … (the lowest number not in use);
- an update writes what it says; where a desired value holds "******" (a secret the snapshot
  could not read) the stored value stays, since apply must not send the mask back;
- an export or import reads back with its secrets masked (what `changes.is_secret_name` calls
  a secret), as observe would see it; settings of flows and the integration read back as
  written (free-form JSON, which integrator.io does not mask).

A change whose target cannot be found (or is ambiguous) raises `LookupError`: in a plan
carried out in order, that is a planner bug.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Mapping

from provisioning.reconcile.changes import (
    MASK,
    AddFlow,
    Change,
    CloneIntegration,
    DeleteFlow,
    DeleteStep,
    ReplaceConnection,
    UpdateFlow,
    UpdateIntegration,
    UpdateStep,
    masked,
)
from provisioning.reconcile.state import (
    DesiredState,
    Json,
    ObservedFlow,
    ObservedState,
    ObservedStep,
)

SIMULATED_INTEGRATION_ID = "sim-integration-1"


def apply(
    observed: ObservedState, changes: Iterable[Change], *, source: ObservedState
) -> ObservedState:
    """The state integrator.io would be in (as observe would read it) after `changes`, carried
    out in order, starting from `observed`; `source` is what a clone copies."""
    state = observed
    for change in changes:
        state = _apply_one(state, change, source)
    return state


def api_calls(changes: Iterable[Change]) -> int:
    """The calls a plan costs (rate limit: the account's bucket, docs/integrator-io.md):

    | change | calls |
    | --- | --- |
    | CloneIntegration | 1 (`POST /integrations/{id}/clone`) |
    | AddFlow | 1 (`POST /flows/{id}/clone`) |
    | DeleteFlow | 1 + one `DELETE` per export or import it owns |
    | DeleteStep | 1 (`DELETE /exports/{id}` or `/imports/{id}`) |
    | UpdateStep | 1 `PUT` (of the observed document); + 1 `GET` when named by source id |
    | ReplaceConnection | 1 |
    | UpdateFlow | 1 `PATCH` (name, schedule, ...); + `GET`, `PUT` of settings; + 1 by source id |
    | UpdateIntegration | 1 `PUT` |

    Reading the state before planning, and again after a clone, is not counted here
    (`provisioning.services.plans.reconcile_estimate` adds it for a whole reconcile).
    """
    return sum(_calls(change) for change in changes)


def _calls(change: Change) -> int:
    match change:
        case DeleteFlow():
            return 1 + len(change.step_ids)
        case UpdateStep():
            return 1 + (change.step_id is None)
        case UpdateFlow():
            # As apply writes it: settings by a GET and a PUT of the flow, the patchable
            # fields by one PATCH; + 1 `GET` when named by source id.
            settings = 2 if "settings" in change.values else 0
            patch = any(name != "settings" for name in change.values)
            return settings + patch + (change.flow_id is None)
        case _:
            return 1


def _apply_one(state: ObservedState, change: Change, source: ObservedState) -> ObservedState:
    match change:
        case CloneIntegration():
            return _clone_integration(state, change, source)
        case AddFlow():
            flow, steps = _clone_flow(state, source, change.flow_source_id, change.connection_map)
            flow = dataclasses.replace(flow, name=change.name)
            return dataclasses.replace(
                state, flows=(*state.flows, flow), steps=(*state.steps, *steps)
            )
        case DeleteFlow():
            _flow(state, change.flow_id, None)
            gone = set(change.step_ids)
            return dataclasses.replace(
                state,
                flows=tuple(f for f in state.flows if f.id != change.flow_id),
                steps=tuple(s for s in state.steps if s.id not in gone),
            )
        case DeleteStep():
            _step(state, change.step_id, "", change.step_source_id)  # LookupError if absent
            return dataclasses.replace(
                state, steps=tuple(s for s in state.steps if s.id != change.step_id)
            )
        case UpdateStep():
            step = _step(state, change.step_id, change.flow_source_id, change.step_source_id)
            doc = dict(step.doc)
            for name, value in change.values.items():
                doc[name] = masked(_written(value, doc.get(name)), name=name)
            return _replace_step(state, dataclasses.replace(step, doc=doc))
        case ReplaceConnection():
            step = _step(state, change.step_id, change.flow_source_id, change.step_source_id)
            moved = dataclasses.replace(step, connection_id=change.connection_id)
            return _replace_step(state, moved)
        case UpdateFlow():
            flow = _flow(state, change.flow_id, change.flow_source_id)
            updated = dataclasses.replace(flow, **_written_fields(change.values, flow))
            flows = tuple(updated if f.id == flow.id else f for f in state.flows)
            return dataclasses.replace(state, flows=flows)
        case UpdateIntegration():
            if state.integration_id != change.integration_id:
                raise LookupError(f"no integration {change.integration_id}")
            return dataclasses.replace(state, **_written_fields(change.values, state))
    raise TypeError(f"not a change: {change!r}")


def _clone_integration(
    state: ObservedState, change: CloneIntegration, source: ObservedState
) -> ObservedState:
    if state.integration_id is not None:
        raise LookupError("the tenant already has an integration: a clone would be a second one")
    state = ObservedState(
        integration_id=SIMULATED_INTEGRATION_ID,
        tag=change.tag,
        name=change.name,
        settings=source.settings,
    )
    step_ids, flow_ids = _fresh_ids(state, "sim-step-"), _fresh_ids(state, "sim-flow-")
    # One copy of each source step for the whole integration, however many flows use it.
    copies = {
        step.id: _copied_step(step, next(step_ids), change.connection_map) for step in source.steps
    }
    flows = [
        _copied_flow(flow, next(flow_ids), [copies[i].id for i in flow.step_ids])
        for flow in source.flows
    ]
    return dataclasses.replace(state, flows=tuple(flows), steps=tuple(copies.values()))


def _clone_flow(
    state: ObservedState, source: ObservedState, flow_id: str, connection_map: Mapping[str, str]
) -> tuple[ObservedFlow, list[ObservedStep]]:
    if state.integration_id is None:
        raise LookupError("a flow is cloned into an integration that does not exist")
    flow = next((f for f in source.flows if f.id == flow_id), None)
    if flow is None:
        raise LookupError(f"the source has no flow {flow_id}")
    source_steps = {step.id: step for step in source.steps}
    step_ids = _fresh_ids(state, "sim-step-")
    steps = [
        _copied_step(source_steps[step_id], next(step_ids), connection_map)
        for step_id in flow.step_ids
    ]
    flow_id = next(_fresh_ids(state, "sim-flow-"))
    return _copied_flow(flow, flow_id, [s.id for s in steps]), steps


def _copied_step(
    step: ObservedStep, new_id: str, connection_map: Mapping[str, str]
) -> ObservedStep:
    connection = connection_map.get(step.connection_id or "", step.connection_id)
    return dataclasses.replace(
        step, id=new_id, source_id=step.id, connection_id=connection, doc=dict(step.doc)
    )


def _copied_flow(flow: ObservedFlow, new_id: str, step_ids: list[str]) -> ObservedFlow:
    return dataclasses.replace(
        flow, id=new_id, source_id=flow.id, schedule=None, step_ids=tuple(step_ids)
    )


def _fresh_ids(state: ObservedState, prefix: str) -> Iterator[str]:
    """`prefix<n>` for n = 1, 2, … that no flow or step of `state` has, lowest first."""
    used = {f.id for f in state.flows} | {s.id for s in state.steps}
    return (f"{prefix}{n}" for n in itertools.count(1) if f"{prefix}{n}" not in used)


def _flow(state: ObservedState, flow_id: str | None, source_id: str | None) -> ObservedFlow:
    found = [
        f
        for f in state.flows
        if (f.id == flow_id if flow_id is not None else f.source_id == source_id)
    ]
    if len(found) != 1:
        raise LookupError(f"{len(found)} flows are flow {flow_id} / from {source_id}")
    return found[0]


def _step(
    state: ObservedState, step_id: str | None, flow_source_id: str, step_source_id: str
) -> ObservedStep:
    if step_id is not None:
        found = [s for s in state.steps if s.id == step_id]
    else:
        in_flow = set(_flow(state, None, flow_source_id).step_ids)
        found = [s for s in state.steps if s.id in in_flow and s.source_id == step_source_id]
    if len(found) != 1:
        raise LookupError(f"{len(found)} steps are step {step_id} / from {step_source_id}")
    return found[0]


def _replace_step(state: ObservedState, step: ObservedStep) -> ObservedState:
    return dataclasses.replace(
        state, steps=tuple(step if s.id == step.id else s for s in state.steps)
    )


def _written_fields(values: Mapping[str, Json], current: object) -> dict[str, Json]:
    return {name: _written(value, getattr(current, name)) for name, value in values.items()}


def _written(desired: Json, stored: Json) -> Json:
    """What a write of `desired` leaves: "******" in it keeps the stored value there."""
    if isinstance(desired, str) and desired == MASK:
        return stored
    if isinstance(desired, Mapping):
        stored = stored if isinstance(stored, Mapping) else {}
        return {key: _written(value, stored.get(key)) for key, value in desired.items()}
    if isinstance(desired, list | tuple):
        stored = stored if isinstance(stored, list | tuple) else []
        return [
            _written(value, stored[i] if i < len(stored) else None)
            for i, value in enumerate(desired)
        ]
    return desired


def as_observed(
    desired: DesiredState, *, integration_id: str = SIMULATED_INTEGRATION_ID
) -> ObservedState:
    """An integration exactly as `desired` says, as observe would read it: ids are the source
    ids (each copy's `source_id` too), secrets masked. For planning a version change without
    reading integrator.io (a rollout's dry run): it assumes the tenant has not drifted."""
    return ObservedState(
        integration_id=integration_id,
        tag=desired.tag,
        name=desired.name,
        settings=dict(desired.settings),
        applied_version=desired.version,
        flows=tuple(
            ObservedFlow(
                id=spec.source_id,
                source_id=spec.source_id,
                name=spec.name,
                disabled=spec.disabled,
                schedule=spec.schedule,
                timezone=spec.timezone,
                settings=dict(spec.settings),
                step_ids=spec.step_source_ids,
            )
            for spec in desired.flows
        ),
        steps=tuple(
            ObservedStep(
                id=spec.source_id,
                source_id=spec.source_id,
                kind=spec.kind,
                name=spec.name,
                connection_id=spec.connection_id,
                doc=masked(dict(spec.fields)),
            )
            for spec in desired.steps
        ),
    )

"""The plan: the ordered changes that turn what integrator.io holds into what the tenant's
template version and settings want. Pure: the same two states give the same plan, whatever
order the observed flows and steps were read in.

**No integration yet.** The plan is `(CloneIntegration,)` and nothing else. What the clone
makes is integrator.io's to decide, and several parts of it are not documented (whether it
keeps the tag, what `disabled` the flows get; docs/integrator-io.md, "Integrations and
cloning"), so the planner does not guess: apply runs the clone, observes again and plans
again, as a resumed job does. The second plan holds everything else. A dry run gets the
whole picture by planning against `simulate.apply` until the plan is empty.

**Matching.** Flows are matched by `source_id`. A flow with the version's source id and the
version's steps (its exports and imports, by source id and in order) is kept; with other
steps it is replaced (deleted, then cloned again), since no change here adds or removes a
step of a flow; a second copy of a kept flow (e.g. from a retried clone) is deleted; a flow
whose source the version no longer has is deleted. Flows made by hand (`source_id` None)
are not the version's: the plan leaves them, and their steps, alone and says nothing of them.

**Leftover steps.** An export or import that no flow of the integration uses is deleted when
it is a copy of a step of one of the version's flows (its `source_id` names one): a clone of
the version makes such a copy only with its flow, so one without a flow is left over, e.g.
by a flow deleted outside the service and cloned again (a flow clone copies its steps
afresh). Any other step no flow uses (made by hand, or a copy of something the version's
flows do not run, such as a standalone export of the template) is left alone.

**Minimal.** Only what differs is changed. A step is compared on the version's managed
fields only (`StepSpec.fields`); a desired "******" is a secret the snapshot could not read
and is not managed, an observed one a secret that cannot be read back (it holds); fields the
tenant's step has beyond those are ignored. The exception is
a flow added by this plan: what its clone holds cannot be compared before it exists, so its
flow fields (schedule when there is one, timezone, disabled, settings) and its steps'
managed fields are all set, by source id.

**Order.**
1. `DeleteFlow`: the old version's flows stop before any new one exists, so a tenant never
   runs both; and each source id names at most one flow when apply looks an added one up.
   Then `DeleteStep`: leftover steps, before the clones that would copy their sources again.
2. `AddFlow`: before the changes that act on the flows they create.
3. `UpdateStep`, then `ReplaceConnection`: a step's PUT writes back the document as read,
   connection included, so the connection is replaced after it, not before.
4. `UpdateFlow` that do not enable a flow, then those that do: a flow starts only once its
   steps, connections and schedule are final.
5. `UpdateIntegration` last: it carries the applied-version marker, which must only say
   "version X applied" once everything before it has succeeded.
Within a group, changes are sorted by source id (deletions by flow or step id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from provisioning.reconcile.changes import (
    MASK,
    NOT_YET_CREATED,
    AddFlow,
    Change,
    CloneIntegration,
    DeleteFlow,
    DeleteStep,
    FieldChange,
    ReplaceConnection,
    UpdateFlow,
    UpdateIntegration,
    UpdateStep,
    field_change,
)
from provisioning.reconcile.state import (
    DesiredState,
    FlowSpec,
    Json,
    ObservedFlow,
    ObservedState,
    ObservedStep,
    StepSpec,
)

_ABSENT = object()


def plan(desired: DesiredState, observed: ObservedState) -> tuple[Change, ...]:
    """The changes, in order, that make `observed` what `desired` says; () when it already is.
    Only `(CloneIntegration,)` when there is no integration (see the module's docstring)."""
    if observed.integration_id is None:
        return (_clone(desired),)
    steps = {step.id: step for step in observed.steps}
    step_specs = {spec.source_id: spec for spec in desired.steps}
    kept, doomed = _match_flows(desired, observed, steps)
    added = sorted(
        (spec for spec in desired.flows if spec.source_id not in kept), key=lambda s: s.source_id
    )

    # Keyed by step id (or, for a step still to be cloned, by flow and step source id) so that
    # a step two kept flows share is updated once.
    step_updates: dict[tuple[str, ...], UpdateStep] = {}
    connections: dict[str, ReplaceConnection] = {}
    flow_updates: list[UpdateFlow] = []
    for spec, flow in sorted(kept.values(), key=lambda pair: pair[0].source_id):
        for step_id, step_source_id in zip(flow.step_ids, spec.step_source_ids, strict=True):
            step, step_spec = steps[step_id], step_specs[step_source_id]
            update = _step_update(desired, spec, step_spec, step)
            if update is not None:
                step_updates.setdefault((step.id,), update)
            replace = _connection_change(spec, step_spec, step)
            if replace is not None:
                connections.setdefault(step.id, replace)
        update = _flow_update(desired, spec, flow)
        if update is not None:
            flow_updates.append(update)
    for spec in added:
        for step_source_id in spec.step_source_ids:
            update = _step_update(desired, spec, step_specs[step_source_id], None)
            if update is not None:
                step_updates.setdefault((spec.source_id, step_source_id), update)
        update = _flow_update(desired, spec, None)
        if update is not None:
            flow_updates.append(update)

    integration = _integration_update(desired, observed)
    return (
        *_deletions(doomed, observed, steps),
        *_leftover_steps(desired, observed),
        *(_add(desired, observed.integration_id, spec) for spec in added),
        *sorted(step_updates.values(), key=lambda c: (c.flow_source_id, c.step_source_id)),
        *sorted(connections.values(), key=lambda c: (c.flow_source_id, c.step_source_id)),
        *sorted(flow_updates, key=lambda c: (c.enables, c.flow_source_id)),
        *([integration] if integration is not None else []),
    )


# --- Matching ---------------------------------------------------------------------------------


def _match_flows(
    desired: DesiredState, observed: ObservedState, steps: Mapping[str, ObservedStep]
) -> tuple[dict[str, tuple[FlowSpec, ObservedFlow]], list[tuple[ObservedFlow, str]]]:
    """The flow kept for each of the version's flows, and the flows to delete with why."""
    specs = {spec.source_id: spec for spec in desired.flows}
    copies: dict[str, list[ObservedFlow]] = defaultdict(list)
    for flow in sorted(observed.flows, key=lambda f: f.id):
        if flow.source_id is not None:
            copies[flow.source_id].append(flow)
    kept: dict[str, tuple[FlowSpec, ObservedFlow]] = {}
    doomed: list[tuple[ObservedFlow, str]] = []
    for source_id, flows in copies.items():
        spec = specs.get(source_id)
        if spec is None:
            why = f"version {desired.version} has no flow from template flow {source_id}"
            doomed += [(flow, why) for flow in flows]
            continue
        whole = [f for f in flows if _step_sources(f, steps) == spec.step_source_ids]
        if whole:
            kept[source_id] = (spec, whole[0])
        for flow in flows:
            if whole and flow is whole[0]:
                continue
            why = (
                f"a second copy of template flow {source_id} (flow {whole[0].id} is kept)"
                if whole
                else f"its exports and imports are not those of version {desired.version}: "
                "it is cloned again"
            )
            doomed.append((flow, why))
    return kept, doomed


def _step_sources(flow: ObservedFlow, steps: Mapping[str, ObservedStep]) -> tuple:
    return tuple(steps[i].source_id if i in steps else None for i in flow.step_ids)


# --- Changes ----------------------------------------------------------------------------------


def _clone(desired: DesiredState) -> CloneIntegration:
    return CloneIntegration(
        source_integration_id=desired.source_integration_id,
        name=desired.name,
        tag=desired.tag,
        connection_map=dict(desired.connection_map),
        reason=(
            f"The tenant has no integration: clone version {desired.version} of template "
            f"{desired.template_key} (integration {desired.source_integration_id})."
        ),
        diff=(field_change("name", None, desired.name), field_change("tag", None, desired.tag)),
    )


def _add(desired: DesiredState, integration_id: str, spec: FlowSpec) -> AddFlow:
    return AddFlow(
        flow_source_id=spec.source_id,
        integration_id=integration_id,
        name=spec.name,
        connection_map=dict(desired.connection_map),
        reason=f"Version {desired.version} has flow {spec.name!r} and the integration has "
        "no usable copy of it: clone it from the template.",
        diff=(field_change("name", None, spec.name),),
    )


def _deletions(
    doomed: list[tuple[ObservedFlow, str]],
    observed: ObservedState,
    steps: Mapping[str, ObservedStep],
) -> list[DeleteFlow]:
    """A step goes with its flow unless a flow that stays (the version's or one made by hand)
    uses it too; a step two deleted flows share is deleted with the first."""
    doomed_ids = {flow.id for flow, _ in doomed}
    staying = {i for flow in observed.flows if flow.id not in doomed_ids for i in flow.step_ids}
    taken: set[str] = set()
    changes = []
    for flow, why in sorted(doomed, key=lambda pair: pair[0].id):
        owned = [i for i in dict.fromkeys(flow.step_ids) if i in steps and i not in staying]
        owned = [i for i in owned if i not in taken]
        taken.update(owned)
        changes.append(
            DeleteFlow(
                flow_id=flow.id,
                flow_source_id=flow.source_id,
                step_ids=tuple(owned),
                reason=f"Delete flow {flow.name!r} and {len(owned)} of its exports and "
                f"imports: {why}.",
                diff=(field_change("name", flow.name, None),),
            )
        )
    return changes


def _leftover_steps(desired: DesiredState, observed: ObservedState) -> list[DeleteStep]:
    """Copies of the version's flows' steps that no flow uses (see "Leftover steps"). A step a
    flow uses, even one to be deleted, is not one: `_deletions` decides about it."""
    used = {step_id for flow in observed.flows for step_id in flow.step_ids}
    flows_of: dict[str, list[str]] = defaultdict(list)
    for spec in desired.flows:
        for step_source_id in dict.fromkeys(spec.step_source_ids):
            flows_of[step_source_id].append(spec.name)
    return [
        DeleteStep(
            step_id=step.id,
            step_source_id=step.source_id,
            kind=step.kind,
            reason=f"Delete {step.kind} {step.name!r}: no flow uses it, and it is a copy of "
            f"template {step.kind} {step.source_id} (run by flow "
            f"{', '.join(repr(name) for name in sorted(flows_of[step.source_id]))}), which a "
            f"clone of version {desired.version} makes only with its flow: it was left over, "
            "e.g. by a flow deleted outside the service and cloned again.",
            diff=(field_change("name", step.name, None),),
        )
        for step in sorted(observed.steps, key=lambda s: s.id)
        if step.id not in used and step.source_id is not None and step.source_id in flows_of
    ]


def _step_update(
    desired: DesiredState, flow: FlowSpec, spec: StepSpec, step: ObservedStep | None
) -> UpdateStep | None:
    managed = {name: value for name, value in spec.fields.items() if value != MASK}
    if step is None:
        values = managed
        diff = _diff((name, NOT_YET_CREATED, value) for name, value in sorted(values.items()))
        why = "it is cloned by this plan"
    else:
        values = {
            name: value
            for name, value in managed.items()
            if not _holds(value, step.doc.get(name, _ABSENT))
        }
        diff = _diff((name, step.doc.get(name), value) for name, value in sorted(values.items()))
        why = "they differ from the version's"
    if not values:
        return None
    return UpdateStep(
        flow_source_id=flow.source_id,
        step_source_id=spec.source_id,
        step_id=None if step is None else step.id,
        kind=spec.kind,
        values=values,
        reason=f"Set {', '.join(sorted(values))} of {spec.kind} {spec.name!r} (flow "
        f"{flow.name!r}) to version {desired.version}'s values: {why}.",
        diff=diff,
    )


def _connection_change(
    flow: FlowSpec, spec: StepSpec, step: ObservedStep
) -> ReplaceConnection | None:
    if spec.connection_id is None or step.connection_id == spec.connection_id:
        return None
    return ReplaceConnection(
        flow_source_id=flow.source_id,
        step_source_id=spec.source_id,
        step_id=step.id,
        kind=spec.kind,
        previous_connection_id=step.connection_id,
        connection_id=spec.connection_id,
        reason=f"{spec.kind.capitalize()} {spec.name!r} (flow {flow.name!r}) uses connection "
        f"{step.connection_id} instead of the tenant's {spec.connection_id}.",
        diff=(field_change("_connectionId", step.connection_id, spec.connection_id),),
    )


def _flow_update(
    desired: DesiredState, spec: FlowSpec, flow: ObservedFlow | None
) -> UpdateFlow | None:
    wanted = {
        "name": spec.name,
        "schedule": spec.schedule,
        "timezone": spec.timezone,
        "disabled": spec.disabled,
        "settings": dict(spec.settings),
    }
    if flow is None:
        # The clone was given the name, and it drops schedules (documented); the rest is
        # whatever the clone copied or chose, so it is set.
        values = {k: v for k, v in wanted.items() if k != "name"}
        if spec.schedule is None:
            del values["schedule"]
        diff = _diff((name, NOT_YET_CREATED, value) for name, value in sorted(values.items()))
        why = "it is cloned by this plan"
    else:
        current = {
            "name": flow.name,
            "schedule": flow.schedule,
            "timezone": flow.timezone,
            "disabled": flow.disabled,
            "settings": dict(flow.settings),
        }
        values = {k: v for k, v in wanted.items() if not _holds(v, current[k])}
        diff = _diff((name, current[name], value) for name, value in sorted(values.items()))
        why = "they differ from the version's and the tenant's settings"
    if not values:
        return None
    action = "Enable" if values.get("disabled") is False else "Update"
    return UpdateFlow(
        flow_source_id=spec.source_id,
        flow_id=None if flow is None else flow.id,
        values=values,
        reason=f"{action} flow {spec.name!r}: set {', '.join(sorted(values))}, {why}.",
        diff=diff,
    )


def _integration_update(desired: DesiredState, observed: ObservedState) -> UpdateIntegration | None:
    assert observed.integration_id is not None
    wanted = {
        "name": desired.name,
        "tag": desired.tag,
        "settings": dict(desired.settings),
        "applied_version": desired.version,
    }
    current = {
        "name": observed.name,
        "tag": observed.tag,
        "settings": dict(observed.settings),
        "applied_version": observed.applied_version,
    }
    values = {k: v for k, v in wanted.items() if not _holds(v, current[k])}
    if not values:
        return None
    return UpdateIntegration(
        integration_id=observed.integration_id,
        values=values,
        reason=f"Set {', '.join(sorted(values))} of the integration for version "
        f"{desired.version}; last, so that it is marked applied only once all else holds.",
        diff=_diff((name, current[name], value) for name, value in sorted(values.items())),
    )


# --- Comparing ----------------------------------------------------------------------------------


def _holds(desired: Json, observed: Json) -> bool:
    """Whether `observed` already is `desired`, at any depth. A "******" holds against anything
    on either side: a desired one is a secret the snapshot could not read (not managed), an
    observed one a secret integrator.io does not show, which therefore cannot be compared;
    planning to write it every time would never converge. (A changed secret is written by
    the settings change that brings it, not found by comparison.)"""
    if any(isinstance(value, str) and value == MASK for value in (desired, observed)):
        return True
    if isinstance(desired, Mapping):
        return (
            isinstance(observed, Mapping)
            and desired.keys() == observed.keys()
            and all(_holds(desired[key], observed[key]) for key in desired)
        )
    if isinstance(desired, list | tuple):
        return (
            isinstance(observed, list | tuple)
            and len(desired) == len(observed)
            and all(_holds(d, o) for d, o in zip(desired, observed, strict=True))
        )
    # JSON tells true from 1; Python's == does not.
    return desired == observed and isinstance(desired, bool) == isinstance(observed, bool)


def _diff(entries: Iterable[tuple[str, Json, Json]]) -> tuple[FieldChange, ...]:
    return tuple(field_change(name, before, after) for name, before, after in entries)

"""Hypothesis strategies: template versions (desired state + the source integration a clone
copies) drawn from one small pool of template flows and steps, and observed states drawn as
some version applied and then disturbed by hand, by retries or by a half-done job."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from provisioning.reconcile.changes import MASK
from provisioning.reconcile.state import (
    DesiredState,
    FlowSpec,
    ObservedFlow,
    ObservedState,
    ObservedStep,
    StepSpec,
)
from tests.provisioning.reconcile.states import realized

# Every real secret value the tests make starts with this, so a leak is easy to find.
SECRET = "S3CRET"
TENANT_CONNECTIONS = {"tc-a": "cn-a", "tc-b": "cn-b"}
EXPORTS = ("ts-e1", "ts-e2", "ts-e3")
IMPORTS = ("ts-i1", "ts-i2", "ts-i3")
FLOWS = ("tf-1", "tf-2", "tf-3", "tf-4")

secrets = st.integers(0, 99).map(lambda n: f"{SECRET}-{n}")
schedules = st.sampled_from([None, "? 0 * * * *", "? */15 * * * *"])
timezones = st.sampled_from([None, "UTC", "Europe/Berlin"])
settings = st.fixed_dictionaries(
    {},
    optional={
        "region": st.sampled_from(["eu", "us"]),
        "batch": st.integers(1, 3),
        "token": st.one_of(secrets, st.just(MASK)),
    },
)


def step_fields(secret: st.SearchStrategy) -> st.SearchStrategy:
    """An export's or import's fields; `secret` draws what sits under secret names."""
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["Get orders", "Put orders"]),
            "pageSize": st.integers(1, 3),
            "apiKey": secret,
            "http": st.fixed_dictionaries(
                {"relativeURI": st.sampled_from(["/a", "/b"])},
                optional={"auth": st.fixed_dictionaries({"clientSecret": secret})},
            ),
            "mapping": st.lists(
                st.fixed_dictionaries({"extract": st.sampled_from(["a", "b"])}), max_size=2
            ),
        },
    )


@dataclasses.dataclass(frozen=True)
class Version:
    desired: DesiredState
    source: ObservedState


@st.composite
def versions(draw, label: str = "1.0.0") -> Version:
    flow_ids = sorted(draw(st.lists(st.sampled_from(FLOWS), unique=True, max_size=3)))
    step_lists = {
        flow_id: (
            draw(st.sampled_from(EXPORTS)),
            *draw(st.lists(st.sampled_from(IMPORTS), unique=True, max_size=2)),
        )
        for flow_id in flow_ids
    }
    step_specs, source_steps = [], []
    for step_id in sorted({i for ids in step_lists.values() for i in ids}):
        kind = "export" if step_id in EXPORTS else "import"
        template_connection = draw(st.sampled_from(sorted(TENANT_CONNECTIONS)))
        # The snapshot reads secrets masked; the tenant's settings mapped in may bring real ones.
        snapshot = draw(step_fields(st.just(MASK)))
        fields = draw(st.one_of(st.just(snapshot), step_fields(st.one_of(secrets, st.just(MASK)))))
        step_specs.append(
            StepSpec(step_id, kind, step_id, TENANT_CONNECTIONS[template_connection], fields)
        )
        source_steps.append(
            ObservedStep(step_id, None, kind, step_id, template_connection, snapshot)
        )
    flow_specs, source_flows = [], []
    for flow_id in flow_ids:
        name = draw(st.sampled_from([f"{flow_id} sync", f"{flow_id} nightly"]))
        flow_specs.append(
            FlowSpec(
                flow_id,
                name,
                draw(st.booleans()),
                draw(schedules),
                draw(timezones),
                draw(settings),
                step_lists[flow_id],
            )
        )
        source_flows.append(
            ObservedFlow(
                flow_id,
                None,
                name,
                draw(st.booleans()),
                draw(schedules),
                draw(timezones),
                draw(settings),
                step_lists[flow_id],
            )
        )
    desired = DesiredState(
        template_key="orders",
        version=label,
        source_integration_id=f"src-{label}",
        tag="tenant-42",
        name="Orders for ACME",
        settings=draw(settings),
        flows=tuple(flow_specs),
        steps=tuple(step_specs),
        connection_map=dict(TENANT_CONNECTIONS),
    )
    source = ObservedState(
        integration_id=f"src-{label}",
        name="Orders template",
        settings=draw(settings),
        flows=tuple(source_flows),
        steps=tuple(source_steps),
    )
    return Version(desired, source)


# --- Disturbances of an observed state ------------------------------------------------------


def _drop_flow(draw, state: ObservedState) -> ObservedState:
    if not state.flows:
        return state
    gone = draw(st.sampled_from(state.flows))
    return dataclasses.replace(state, flows=tuple(f for f in state.flows if f is not gone))


def _fresh(state: ObservedState, prefix: str) -> str:
    used = {f.id for f in state.flows} | {s.id for s in state.steps}
    return next(f"{prefix}{n}" for n in range(len(used) + 1) if f"{prefix}{n}" not in used)


def _extra_flow(draw, state: ObservedState) -> ObservedState:
    """A flow whose source no version has, or one made by hand (maybe sharing a step)."""
    source_id = draw(st.sampled_from([None, "tf-9", *FLOWS]))
    step = ObservedStep(_fresh(state, "x-s-"), source_id and "ts-e9", "export", "x", "cn-a", {})
    shared = (
        draw(st.lists(st.sampled_from([s.id for s in state.steps]), max_size=1))
        if (state.steps)
        else []
    )
    flow_id = _fresh(state, "x-f-")
    flow = ObservedFlow(flow_id, source_id, "extra", False, None, None, {}, (step.id, *shared))
    return dataclasses.replace(state, flows=(*state.flows, flow), steps=(*state.steps, step))


def _duplicate_flow(draw, state: ObservedState) -> ObservedState:
    """A second copy of a flow, as a retried clone whose first answer was lost leaves."""
    if not state.flows:
        return state
    flow = draw(st.sampled_from(state.flows))
    steps = {s.id: s for s in state.steps}
    copies = []
    for step_id in flow.step_ids:
        if step_id in steps:
            used = dataclasses.replace(state, steps=(*state.steps, *copies))
            copies.append(dataclasses.replace(steps[step_id], id=_fresh(used, "d-s-")))
    copy = dataclasses.replace(flow, id=_fresh(state, "d-f-"), step_ids=tuple(s.id for s in copies))
    return dataclasses.replace(state, flows=(*state.flows, copy), steps=(*state.steps, *copies))


def _edit_step(draw, state: ObservedState) -> ObservedState:
    if not state.steps:
        return state
    step = draw(st.sampled_from(state.steps))
    doc = draw(
        st.sampled_from(
            [
                {**step.doc, "pageSize": 7},
                {k: v for k, v in step.doc.items() if k != "http"},
                {**step.doc, "addedByHand": True},
                {**step.doc, "apiKey": MASK},
            ]
        )
    )
    edited = dataclasses.replace(step, doc=doc)
    return dataclasses.replace(state, steps=tuple(edited if s is step else s for s in state.steps))


def _repoint_step(draw, state: ObservedState) -> ObservedState:
    if not state.steps:
        return state
    step = draw(st.sampled_from(state.steps))
    moved = dataclasses.replace(step, connection_id=draw(st.sampled_from(["cn-a", "cn-z", None])))
    return dataclasses.replace(state, steps=tuple(moved if s is step else s for s in state.steps))


def _edit_flow(draw, state: ObservedState) -> ObservedState:
    if not state.flows:
        return state
    flow = draw(st.sampled_from(state.flows))
    edited = dataclasses.replace(
        flow,
        schedule=draw(schedules),
        timezone=draw(timezones),
        disabled=draw(st.booleans()),
        settings=draw(settings),
        name=draw(st.sampled_from([flow.name, "renamed by hand"])),
    )
    return dataclasses.replace(state, flows=tuple(edited if f is flow else f for f in state.flows))


def _drop_step_from_flow(draw, state: ObservedState) -> ObservedState:
    if not state.flows:
        return state
    flow = draw(st.sampled_from(state.flows))
    edited = dataclasses.replace(flow, step_ids=flow.step_ids[:-1])
    return dataclasses.replace(state, flows=tuple(edited if f is flow else f for f in state.flows))


def _edit_integration(draw, state: ObservedState) -> ObservedState:
    return dataclasses.replace(
        state,
        settings=draw(settings),
        tag=draw(st.sampled_from([state.tag, None, "other"])),
        name=draw(st.sampled_from([state.name, "renamed"])),
        applied_version=draw(st.sampled_from([state.applied_version, None, "0.9.0"])),
    )


DISTURBANCES = (
    _drop_flow,
    _extra_flow,
    _duplicate_flow,
    _edit_step,
    _repoint_step,
    _edit_flow,
    _drop_step_from_flow,
    _edit_integration,
)


@st.composite
def worlds(draw) -> tuple[Version, ObservedState]:
    """A version to apply, and the tenant's integration: none, or an earlier (or the same)
    version applied and then disturbed."""
    version = draw(versions("1.1.0"))
    if draw(st.integers(0, 5)) == 0:
        return version, ObservedState(integration_id=None)
    base = draw(st.one_of(st.just(version), versions("1.0.0")))
    state = realized(base.desired)
    for disturb in draw(st.lists(st.sampled_from(DISTURBANCES), max_size=4)):
        state = disturb(draw, state)
    return version, state

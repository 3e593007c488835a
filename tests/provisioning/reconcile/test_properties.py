"""Properties of the planner, checked against the model of integrator.io in `simulate`."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.reconcile.changes import (
    AddFlow,
    CloneIntegration,
    DeleteFlow,
    DeleteStep,
    ReplaceConnection,
    UpdateFlow,
    UpdateIntegration,
    UpdateStep,
)
from provisioning.reconcile.planner import plan
from tests.provisioning.reconcile.states import converge, realized
from tests.provisioning.reconcile.strategies import SECRET, versions, worlds

EXAMPLES = settings(max_examples=300, deadline=None)


@EXAMPLES
@given(worlds())
def test_a_plan_carried_out_leaves_nothing_to_plan(world):
    """One round when the integration exists; two when it must be cloned first (the clone,
    then everything else, planned against what the clone made)."""
    version, observed = world
    plans, _ = converge(version.desired, observed, source=version.source)
    assert len(plans) <= (1 if observed.exists else 2)


@EXAMPLES
@given(worlds(), st.randoms(use_true_random=False))
def test_the_plan_depends_on_the_states_only(world, random):
    version, observed = world
    shuffled = dataclasses.replace(
        observed,
        flows=tuple(random.sample(observed.flows, len(observed.flows))),
        steps=tuple(random.sample(observed.steps, len(observed.steps))),
    )
    first = plan(version.desired, observed)
    assert plan(version.desired, observed) == first
    assert plan(version.desired, shuffled) == first


@EXAMPLES
@given(versions())
def test_an_integration_that_matches_needs_no_change(version):
    assert plan(version.desired, realized(version.desired)) == ()


@EXAMPLES
@given(worlds())
def test_a_clone_only_when_there_is_no_integration_and_then_alone(world):
    version, observed = world
    changes = plan(version.desired, observed)
    clones = [c for c in changes if isinstance(c, CloneIntegration)]
    if observed.exists:
        assert clones == []
    else:
        assert changes == tuple(clones) and len(clones) == 1


# The order the planner's docstring gives; UpdateFlow that enables is its own rank.
def _rank(change) -> int:
    match change:
        case CloneIntegration():
            return 0
        case DeleteFlow():
            return 1
        case DeleteStep():
            return 2
        case AddFlow():
            return 3
        case UpdateStep():
            return 4
        case ReplaceConnection():
            return 5
        case UpdateFlow():
            return 7 if change.enables else 6
        case UpdateIntegration():
            return 8
    raise AssertionError(change)


@EXAMPLES
@given(worlds())
def test_changes_come_in_order_and_the_integration_last(world):
    version, observed = world
    plans, _ = converge(version.desired, observed, source=version.source)
    for changes in plans:
        ranks = [_rank(c) for c in changes]
        assert ranks == sorted(ranks)
        assert ranks.count(8) <= 1
        # Once per target: a plan never changes the same thing twice. Deletions name their
        # target by id (two leftover copies of one template step are two deletions).
        targets = [
            (type(c), getattr(c, "flow_source_id", None), getattr(c, "step_source_id", None))
            for c in changes
            if not isinstance(c, DeleteFlow | DeleteStep)
        ]
        assert len(targets) == len(set(targets))
        deleted = [
            step_id
            for c in changes
            if isinstance(c, DeleteFlow | DeleteStep)
            for step_id in (c.step_ids if isinstance(c, DeleteFlow) else (c.step_id,))
        ]
        assert len(deleted) == len(set(deleted))


@EXAMPLES
@given(worlds())
def test_no_secret_shows_in_a_diff_a_reason_or_a_repr(world):
    version, observed = world
    plans, _ = converge(version.desired, observed, source=version.source)
    for change in (c for changes in plans for c in changes):
        assert SECRET not in repr(change.diff)
        assert SECRET not in change.reason
        assert SECRET not in repr(change)


@EXAMPLES
@given(worlds())
def test_only_leftover_copies_of_the_versions_flow_steps_are_deleted_without_their_flow(world):
    """A plan carried out leaves no copy of a step of the version's flows that no flow uses,
    and keeps every other step no flow used (made by hand, or not the version's)."""
    version, observed = world
    _, state = converge(version.desired, observed, source=version.source)
    flow_steps = {i for spec in version.desired.flows for i in spec.step_source_ids}
    used = {i for flow in state.flows for i in flow.step_ids}
    assert [s.id for s in state.steps if s.id not in used and s.source_id in flow_steps] == []
    used_before = {i for flow in observed.flows for i in flow.step_ids}
    foreign = {
        s.id for s in observed.steps if s.id not in used_before and s.source_id not in flow_steps
    }
    assert foreign <= {s.id for s in state.steps}

"""The planner on readable cases: an "orders" template whose 1.1.0 adds a customers flow and
raises the orders export's page size."""

from __future__ import annotations

import dataclasses

import pytest

from provisioning.reconcile.changes import (
    MASK,
    NOT_YET_CREATED,
    AddFlow,
    CloneIntegration,
    DeleteFlow,
    DeleteStep,
    FieldChange,
    ReplaceConnection,
    UpdateFlow,
    UpdateIntegration,
    UpdateStep,
)
from provisioning.reconcile.planner import plan
from provisioning.reconcile.simulate import api_calls, apply
from provisioning.reconcile.state import (
    DesiredState,
    FlowSpec,
    ObservedFlow,
    ObservedState,
    ObservedStep,
    StepSpec,
)
from tests.provisioning.reconcile.states import converge, realized

CONNECTIONS = {"tc-shop": "cn-shop", "tc-erp": "cn-erp"}
HOURLY = "? 0 * * * *"


def _version(number: str) -> tuple[DesiredState, ObservedState]:
    """The desired state of tenant 42 at `number`, and that version's source integration."""
    page_size = 100 if number == "1.0.0" else 200
    steps = [
        ("ts-get-orders", "export", "tc-shop", {"name": "Get orders", "pageSize": page_size}),
        ("ts-put-orders", "import", "tc-erp", {"name": "Put orders", "apiKey": MASK}),
    ]
    flows = [FlowSpec("tf-orders", "Orders", False, HOURLY, "UTC", {}, steps_of(steps))]
    if number == "1.1.0":
        customers = [
            ("ts-get-customers", "export", "tc-shop", {"name": "Get customers"}),
            ("ts-put-customers", "import", "tc-erp", {"name": "Put customers"}),
        ]
        steps += customers
        flows.append(
            FlowSpec("tf-customers", "Customers", False, HOURLY, "UTC", {}, steps_of(customers))
        )
    desired = DesiredState(
        template_key="orders",
        version=number,
        source_integration_id=f"src-{number}",
        tag="tenant-42",
        name="Orders for ACME",
        settings={"region": "eu", "token": "S3CRET-tenant"},
        flows=tuple(flows),
        steps=tuple(StepSpec(i, k, d["name"], CONNECTIONS[c], d) for i, k, c, d in steps),
        connection_map=CONNECTIONS,
    )
    source = ObservedState(
        integration_id=f"src-{number}",
        name="Orders template",
        flows=tuple(
            ObservedFlow(f.source_id, None, f.name, True, HOURLY, "UTC", {}, f.step_source_ids)
            for f in flows
        ),
        steps=tuple(ObservedStep(i, None, k, d["name"], c, d) for i, k, c, d in steps),
    )
    return desired, source


def steps_of(steps: list) -> tuple[str, ...]:
    return tuple(step[0] for step in steps)


V1, SOURCE_V1 = _version("1.0.0")
V11, SOURCE_V11 = _version("1.1.0")


def test_an_upgrade_adds_the_flow_and_changes_the_export_field():
    changes = plan(V11, realized(V1))

    assert [type(c) for c in changes] == [
        AddFlow,
        UpdateStep,
        UpdateStep,
        UpdateStep,
        UpdateFlow,
        UpdateIntegration,
    ]
    add, *step_updates, enable, integration = changes
    assert (add.flow_source_id, add.integration_id, add.name) == (
        "tf-customers",
        "int-1",
        "Customers",
    )
    # The new flow's steps are named by source id: apply finds them after the clone.
    assert [(c.step_source_id, c.step_id) for c in step_updates] == [
        ("ts-get-customers", None),
        ("ts-put-customers", None),
        ("ts-get-orders", "s-1-1"),
    ]
    assert step_updates[2].diff == (FieldChange("pageSize", 100, 200),)
    assert step_updates[0].diff == (FieldChange("name", NOT_YET_CREATED, "Get customers"),)
    assert (enable.flow_id, enable.enables, enable.fields) == (
        None,
        True,
        ("disabled", "schedule", "settings", "timezone"),
    )
    assert integration.diff == (FieldChange("applied_version", "1.0.0", "1.1.0"),)
    assert "pageSize" in step_updates[2].reason and "1.1.0" in step_updates[2].reason
    assert converge(V11, realized(V1), source=SOURCE_V11)[0] == [changes]


def test_a_rollback_deletes_the_flow_with_its_steps_and_restores_the_field():
    observed = realized(V11)

    changes = plan(V1, observed)

    delete, export, integration = changes
    assert isinstance(delete, DeleteFlow)
    assert (delete.flow_id, delete.step_ids) == ("f-2", ("s-2-1", "s-2-2"))
    assert "version 1.0.0 has no flow from template flow tf-customers" in delete.reason
    assert isinstance(export, UpdateStep) and export.values == {"pageSize": 100}
    assert isinstance(integration, UpdateIntegration)
    assert integration.values == {"applied_version": "1.0.0"}
    assert api_calls(changes) == 3 + 1 + 1


def test_a_flow_deleted_by_hand_is_cloned_again_and_set_up():
    observed = realized(V11)
    observed = dataclasses.replace(observed, flows=observed.flows[:1], steps=observed.steps[:2])

    changes = plan(V11, observed)

    assert [type(c) for c in changes] == [AddFlow, UpdateStep, UpdateStep, UpdateFlow]
    # the flow: its settings by a GET and a PUT, schedule and switch by a PATCH, found by source id
    assert api_calls(changes) == 1 + 2 * 2 + 4
    assert plan(V11, apply(observed, changes, source=SOURCE_V11)) == ()


def test_the_steps_a_flow_deleted_by_hand_leaves_are_deleted_and_a_foreign_export_kept():
    observed = realized(V11)
    # Flow f-2 deleted outside the service: its export and import stay, used by no flow. A
    # standalone export of the customer's own, and a copy of a step no flow of the version
    # runs, are used by no flow either.
    mine = ObservedStep("s-mine", None, "export", "My export", "cn-shop", {"name": "My export"})
    elsewhere = ObservedStep("s-other", "ts-not-in-the-version", "export", "Other", None, {})
    observed = dataclasses.replace(
        observed, flows=observed.flows[:1], steps=(*observed.steps, mine, elsewhere)
    )

    changes = plan(V11, observed)

    assert [type(c) for c in changes[:3]] == [DeleteStep, DeleteStep, AddFlow]
    deletions = changes[:2]
    assert [(c.step_id, c.step_source_id, c.kind) for c in deletions] == [
        ("s-2-1", "ts-get-customers", "export"),
        ("s-2-2", "ts-put-customers", "import"),
    ]
    assert deletions[0].diff == (FieldChange("name", "Get customers", None),)
    assert "no flow uses it" in deletions[0].reason and "'Customers'" in deletions[0].reason
    assert api_calls(deletions) == 2
    plans, state = converge(V11, observed, source=SOURCE_V11)
    assert len(plans) == 1
    kept = {step.id for step in state.steps}
    assert {"s-mine", "s-other"} <= kept and not {"s-2-1", "s-2-2"} & kept
    assert sorted(s.source_id or "" for s in state.steps) == sorted(
        [s.source_id for s in realized(V11).steps] + ["", "ts-not-in-the-version"]
    )


def test_a_step_pointed_at_another_connection_is_pointed_back():
    observed = realized(V11)
    moved = dataclasses.replace(observed.steps[1], connection_id="cn-someone-else")
    observed = dataclasses.replace(observed, steps=(observed.steps[0], moved, *observed.steps[2:]))

    (change,) = plan(V11, observed)

    assert isinstance(change, ReplaceConnection)
    assert (change.step_id, change.previous_connection_id, change.connection_id) == (
        "s-1-2",
        "cn-someone-else",
        "cn-erp",
    )


def test_a_schedule_edited_by_hand_is_set_back_and_nothing_else():
    observed = realized(V11)
    edited = dataclasses.replace(observed.flows[0], schedule="? */5 * * * *", timezone="EST")
    observed = dataclasses.replace(observed, flows=(edited, *observed.flows[1:]))

    (change,) = plan(V11, observed)

    assert isinstance(change, UpdateFlow) and not change.enables
    assert change.fields == ("schedule", "timezone")
    assert change.diff == (
        FieldChange("schedule", "? */5 * * * *", HOURLY),
        FieldChange("timezone", "EST", "UTC"),
    )
    assert change.reason.startswith("Update flow 'Orders': set schedule, timezone")


def test_a_tenant_without_an_integration_gets_a_clone_then_the_rest():
    first = plan(V11, ObservedState(integration_id=None))

    assert [type(c) for c in first] == [CloneIntegration]
    assert first[0].source_integration_id == "src-1.1.0"
    plans, state = converge(V11, ObservedState(integration_id=None), source=SOURCE_V11)
    second = plans[1]
    # The clone kept the source's disabled flows (the model's assumption) and dropped their
    # schedules (documented): both flows are enabled and scheduled, then the integration is
    # given its settings and marked.
    assert [type(c) for c in second] == [UpdateFlow, UpdateFlow, UpdateIntegration]
    assert all(c.fields == ("disabled", "schedule") for c in second[:2])
    assert second[2].fields == ("applied_version", "settings")
    assert state.applied_version == "1.1.0"


def test_hand_made_flows_are_left_alone():
    observed = realized(V11)
    mine = ObservedFlow("f-mine", None, "My own flow", False, None, None, {}, ("s-1-1",))
    observed = dataclasses.replace(observed, flows=(*observed.flows, mine))

    assert plan(V11, observed) == ()


def test_secrets_are_masked_in_diffs():
    observed = dataclasses.replace(realized(V11), settings={"region": "eu", "token": "old"})

    (change,) = plan(V11, observed)

    assert change.diff == (
        FieldChange("settings", {"region": "eu", "token": MASK}, {"region": "eu", "token": MASK}),
    )
    assert "S3CRET" not in repr(change)
    assert change.values == {"settings": {"region": "eu", "token": "S3CRET-tenant"}}


def test_an_integration_that_masks_a_secret_is_not_planned_to_be_written_forever():
    observed = realized(V11)
    step = dataclasses.replace(observed.steps[1], doc={"name": "Put orders", "apiKey": MASK})
    observed = dataclasses.replace(observed, steps=(observed.steps[0], step, *observed.steps[2:]))

    assert plan(V11, observed) == ()


def test_a_desired_state_that_names_a_flow_twice_is_refused():
    with pytest.raises(ValueError, match="once"):
        dataclasses.replace(V11, flows=(V11.flows[0], V11.flows[0]))

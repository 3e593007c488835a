"""Which flows of a clone run, as the tenant's settings say (provisioning.flow_switches)."""

from provisioning.flow_switches import flow_switches, flows_disabled_wanted

SCHEMA = {
    "type": "object",
    "properties": {
        "flows": {
            "type": "object",
            "properties": {
                "orders": {"type": "boolean", "x-source-flow-id": "f-orders"},
                "refunds": {
                    "type": "object",
                    "x-source-flow-id": "f-refunds",
                    "properties": {"enabled": {"type": "boolean"}},
                },
            },
        },
        "store_id": {"type": "string"},
    },
}


def test_a_boolean_or_an_objects_enabled_switches_its_flow():
    settings = {"flows": {"orders": False, "refunds": {"enabled": True}}}
    assert flow_switches(settings_schema=SCHEMA, settings=settings) == {
        "f-orders": False,
        "f-refunds": True,
    }


def test_a_flow_whose_setting_is_absent_is_on():
    assert flow_switches(settings_schema=SCHEMA, settings={}) == {
        "f-orders": True,
        "f-refunds": True,
    }
    assert flow_switches(settings_schema=SCHEMA, settings={"flows": "not an object"}) == {
        "f-orders": True,
        "f-refunds": True,
    }


def test_only_false_turns_a_flow_off():
    settings = {"flows": {"orders": None, "refunds": {"enabled": False}}}
    assert flow_switches(settings_schema=SCHEMA, settings=settings) == {
        "f-orders": True,
        "f-refunds": False,
    }


def test_cloned_flows_are_matched_by_source_id_and_unnamed_ones_stay_on():
    flows = [
        {"id": "c1", "source_id": "f-orders"},
        {"id": "c2", "source_id": "f-refunds"},
        {"id": "c3", "source_id": "f-unknown"},
        {"id": "c4", "source_id": None},
    ]
    wanted = flows_disabled_wanted(
        flows=flows, settings_schema=SCHEMA, settings={"flows": {"orders": False}}
    )
    assert wanted == {"c1": True, "c2": False, "c3": False, "c4": False}


def test_a_schema_that_is_not_an_object_switches_nothing():
    assert flow_switches(settings_schema={"properties": ["odd"]}, settings={}) == {}
    assert flow_switches(settings_schema={"x-source-flow-id": "top"}, settings={}) == {}

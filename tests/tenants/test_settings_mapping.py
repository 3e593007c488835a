"""Where a version's settings land (tenants.settings_mapping), without a worker."""

import pytest

from tenants.settings_mapping import (
    ALL_FLOWS,
    pointer_set,
    schedule_every,
    settings_mapped,
    settings_mapping_errors,
    timezone_for_schedule,
)
from tests.fixtures.factories import DEMO_TEMPLATE

SCHEMA = DEMO_TEMPLATE["settings_schema"]


@pytest.mark.parametrize(
    ("minutes", "cron"),
    [
        (5, "? */5 * * * *"),
        (15, "? */15 * * * *"),
        (45, "? */30 * * * *"),  # not exact in cron: the next shorter interval that is
        (60, "? 0 * * * *"),
        (90, "? 0 * * * *"),
        (120, "? 0 */2 * * *"),
        (1000, "? 0 */12 * * *"),
        (1440, "? 0 0 * * *"),
        (1, "? */5 * * * *"),
    ],
)
def test_an_interval_becomes_a_six_field_cron(minutes, cron):
    assert schedule_every(minutes) == cron
    assert len(cron.split()) == 6 and cron.startswith("? ")


def test_without_a_mapping_every_setting_goes_to_the_integration():
    settings = {"store_id": "s", "flows": {"orders": True}}
    mapped = settings_mapped(mapping=[], settings=settings)
    assert mapped.integration_settings == settings
    assert mapped.for_flow("f1") == {}


def test_each_setting_lands_where_the_mapping_says():
    mapping = [
        {"setting": "sync_interval_minutes", "to": "flow_schedule"},
        {"setting": "sync_interval_minutes", "to": "integration_settings", "path": "poll"},
        {"setting": "store_id", "to": "flow_settings", "path": "shop.id", "flows": ["f1"]},
        {"setting": "erp_subsidiary", "to": "flow_timezone", "flows": ["f2"]},
        {"setting": "missing", "to": "integration_settings", "path": "never"},
    ]
    settings = {"sync_interval_minutes": 60, "store_id": "acme", "erp_subsidiary": "Europe/Paris"}
    mapped = settings_mapped(mapping=mapping, settings=settings)
    assert mapped.integration_settings == {"poll": 60}
    assert mapped.flow_schedules == {ALL_FLOWS: "? 0 * * * *"}
    assert mapped.for_flow("f1") == {
        "schedule": "? 0 * * * *",
        "settings": {"shop": {"id": "acme"}},
    }
    assert mapped.for_flow("f2") == {"schedule": "? 0 * * * *", "timezone": "Europe/Paris"}


def test_the_demo_mapping_is_valid():
    assert (
        settings_mapping_errors(mapping=DEMO_TEMPLATE["settings_mapping"], settings_schema=SCHEMA)
        == {}
    )


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"setting": "nope", "to": "integration_settings", "path": "x"}, "setting"),
        ({"setting": "store_id", "to": "somewhere"}, "to"),
        ({"setting": "store_id", "to": "integration_settings"}, "path"),
        ({"setting": "store_id", "to": "integration_settings", "path": "a..b"}, "path"),
        ({"setting": "store_id", "to": "flow_timezone", "path": "x"}, "path"),
        ({"setting": "store_id", "to": "flow_schedule"}, "setting"),  # not whole minutes
        ({"setting": "store_id", "to": "flow_timezone", "flows": []}, "flows"),
        (
            {"setting": "store_id", "to": "integration_settings", "path": "x", "flows": ["f"]},
            "flows",
        ),
    ],
)
def test_a_broken_entry_is_named_by_its_field(entry, field):
    assert list(settings_mapping_errors(mapping=[entry], settings_schema=SCHEMA)) == [
        f"settings_mapping.0.{field}"
    ]


def test_a_mapping_that_is_not_a_list_of_objects_is_refused():
    assert settings_mapping_errors(mapping={}, settings_schema=SCHEMA) == {
        "settings_mapping": ["Must be a list of entries."]
    }
    assert "settings_mapping.0" in settings_mapping_errors(mapping=["x"], settings_schema=SCHEMA)
    errors = settings_mapping_errors(
        mapping=[{"setting": "store_id", "to": "flow_timezone", "extra": 1}], settings_schema=SCHEMA
    )
    assert errors == {"settings_mapping.0": ["Unknown fields: extra."]}


def test_a_setting_lands_in_a_step_field_formatted():
    mapping = [
        {
            "setting": "order_statuses",
            "to": "step",
            "step": "e1",
            "pointer": "/http/relativeURI",
            "format": "/orders?status={}",
        }
    ]
    mapped = settings_mapped(mapping=mapping, settings={"order_statuses": ["paid", "shipped"]})
    assert mapped.step_fields == {"e1": {"/http/relativeURI": "/orders?status=paid,shipped"}}
    assert settings_mapping_errors(mapping=mapping, settings_schema=SCHEMA) == {}


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"step": "", "pointer": "/http/x"}, "step"),
        ({"step": "e1", "pointer": "http/x"}, "pointer"),
        ({"step": "e1", "pointer": "/_connectionId"}, "pointer"),
        ({"step": "e1", "pointer": "/http/x", "format": "no placeholder"}, "format"),
        ({"step": "e1", "pointer": "/http/x", "flows": ["f1"]}, "flows"),
    ],
)
def test_a_broken_step_entry_is_named_by_its_field(entry, field):
    entry = {"setting": "order_statuses", "to": "step", **entry}
    assert list(settings_mapping_errors(mapping=[entry], settings_schema=SCHEMA)) == [
        f"settings_mapping.0.{field}"
    ]


def test_a_pointer_sets_only_what_is_there():
    document = {"http": {"relativeURI": "/a", "list": [1, 2]}, "a~b": {"c/d": 1}}
    assert pointer_set(document, "/http/relativeURI", "/b")
    assert pointer_set(document, "/http/list/1", 3)
    assert pointer_set(document, "/a~0b/c~1d", 2)
    assert not pointer_set(document, "/http/missing", 1)
    assert not pointer_set(document, "/nothing/here", 1)
    assert document == {"http": {"relativeURI": "/b", "list": [1, 3]}, "a~b": {"c/d": 2}}


def test_a_scheduled_flow_keeps_its_own_timezone_unless_one_is_mapped():
    assert timezone_for_schedule(wanted="Europe/Paris", flow="Europe/Berlin") == "Europe/Paris"
    assert timezone_for_schedule(wanted=None, flow="Europe/Berlin") == "Europe/Berlin"
    assert timezone_for_schedule(wanted=None, flow=None) == "UTC"

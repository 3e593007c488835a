"""`version_diff`: what changed between two versions, from their content alone."""

import yaml

from sandbox import seed
from tenants.version_diff import changed_paths, mapping_diff, schema_properties_diff, version_diff
from tests.fixtures.template_snapshots import demo_snapshot

EMPTY = {"added": [], "removed": [], "changed": []}


def _version(path: str, version: str) -> dict:
    with open(path) as file:
        document = yaml.safe_load(file)
    return {
        "settings_schema": document["settings_schema"],
        "settings_mapping": document["settings_mapping"],
        "snapshot": demo_snapshot(version),
    }


def test_the_demo_1_0_0_to_1_1_0():
    before = _version("tenants/template_files/shop-to-erp.yaml", "1.0.0")
    after = _version("tenants/template_files/shop-to-erp-1.1.0.yaml", "1.1.0")
    diff = version_diff(before=before, after=after)
    assert diff["snapshots"] is True
    assert diff["flows"] == {
        "added": [{"_id": seed.DEMO_REFUNDS_FLOW_ID, "name": "Shop refunds to ERP credit memos"}],
        "removed": [],
        "changed": [],
    }
    assert diff["exports"] == {
        "added": [{"_id": seed.DEMO_REFUNDS_EXPORT_ID, "name": "Get shop refunds"}],
        "removed": [],
        "changed": [
            {
                "_id": seed.DEMO_ORDERS_EXPORT_ID,
                "name": "Get paid shop orders",
                "fields": ["http.relativeURI"],
            }
        ],
    }
    assert diff["imports"]["added"] == [
        {"_id": seed.DEMO_CREDIT_MEMOS_IMPORT_ID, "name": "Create ERP credit memos"}
    ]
    assert diff["settings_schema"] == {
        "added": ["flows.refunds", "refund_lookback_days"],
        "removed": [],
        "changed": [],
    }
    assert diff["settings_mapping"] == {
        "added": [
            {
                "setting": "flows.refunds",
                "to": "integration_settings",
                "path": "refundSync.enabled",
            },
            {
                "setting": "refund_lookback_days",
                "to": "integration_settings",
                "path": "refundSync.lookbackDays",
            },
        ],
        "removed": [],
    }
    # Backwards is the mirror image.
    back = version_diff(before=after, after=before)
    assert back["flows"]["removed"] == diff["flows"]["added"]
    assert back["settings_schema"]["removed"] == diff["settings_schema"]["added"]
    assert back["settings_mapping"]["removed"] == diff["settings_mapping"]["added"]


def test_a_version_against_itself_changes_nothing():
    version = _version("tenants/template_files/shop-to-erp.yaml", "1.0.0")
    other = {**version, "snapshot": demo_snapshot("1.0.0")}  # another taken_at, same content
    diff = version_diff(before=version, after=other)
    assert [diff[part] for part in ("flows", "exports", "imports")] == [EMPTY] * 3
    assert diff["settings_schema"] == EMPTY
    assert diff["settings_mapping"] == {"added": [], "removed": []}


def test_without_both_snapshots_resources_are_not_compared():
    with_snapshot = _version("tenants/template_files/shop-to-erp.yaml", "1.0.0")
    offline = {**with_snapshot, "snapshot": {}}
    diff = version_diff(before=offline, after=with_snapshot)
    assert diff["snapshots"] is False
    assert diff["flows"] == EMPTY


def test_changed_paths_name_fields_never_values():
    before = {"_id": "x", "lastModified": "1", "http": {"auth": {"token": "******"}, "a": [1]}}
    after = {"_id": "x", "lastModified": "2", "http": {"auth": {"token": "******2"}, "a": [2]}}
    after["schedule"] = "? 0 * * * *"
    assert changed_paths(before, after) == ["http.a", "http.auth.token", "schedule"]


def test_schema_properties_report_their_own_changes_not_their_childrens():
    before = {"properties": {"flows": {"type": "object", "properties": {"a": {"default": True}}}}}
    after = {"properties": {"flows": {"type": "object", "properties": {"a": {"default": False}}}}}
    assert schema_properties_diff(before, after) == {
        "added": [],
        "removed": [],
        "changed": ["flows.a"],
    }


def test_an_edited_mapping_entry_is_one_removed_and_one_added():
    old = [{"setting": "a", "to": "integration_settings", "path": "x"}]
    new = [{"path": "y", "setting": "a", "to": "integration_settings"}]
    assert mapping_diff(old, new) == {"added": new, "removed": old}
    assert mapping_diff(old, [dict(reversed(list(old[0].items())))]) == {"added": [], "removed": []}

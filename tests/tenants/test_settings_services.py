"""Tenant settings: template defaults, overrides, merging and validation."""

import pytest

from tenants.errors import SettingsInvalid
from tenants.services import (
    deep_merge,
    merge_patch,
    schema_defaults,
    settings_effective,
    tenant_effective_settings,
)


def test_it_collects_nested_defaults():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "default": 1},
            "b": {"type": "object", "properties": {"c": {"default": [1]}, "d": {}}},
            "e": {"type": "object", "properties": {"f": {"type": "string"}}},
            "g": {"type": "object", "default": {"h": 1}, "properties": {"i": {"default": 2}}},
        },
    }
    assert schema_defaults(schema) == {"a": 1, "b": {"c": [1]}, "g": {"h": 1, "i": 2}}


def test_deep_merge_merges_objects_and_replaces_the_rest():
    base = {"a": {"b": 1, "c": 2}, "list": [1, 2], "x": 1}
    assert deep_merge(base, {"a": {"c": 3}, "list": [9]}) == {
        "a": {"b": 1, "c": 3},
        "list": [9],
        "x": 1,
    }
    assert base == {"a": {"b": 1, "c": 2}, "list": [1, 2], "x": 1}  # untouched


def test_merge_patch_follows_rfc_7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch({"a": [1]}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert merge_patch({"a": {"b": 1}}, {"a": None, "new": None}) == {}


@pytest.mark.django_db
def test_it_merges_overrides_over_the_template_defaults(acme):
    acme.settings = {"flows": {"stock": True}, "order_statuses": ["paid", "shipped"]}
    assert tenant_effective_settings(tenant=acme) == {
        "store_id": "default",
        "sync_interval_minutes": 15,
        "order_statuses": ["paid", "shipped"],
        "erp_subsidiary": "default",
        "erp_order_type": "sales_order",
        "update_existing_customers": True,
        "flows": {"orders": True, "customers": True, "stock": True},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sync_interval_minutes": 4}, "settings.sync_interval_minutes"),
        ({"sync_interval_minutes": 1441}, "settings.sync_interval_minutes"),
        ({"sync_interval_minutes": "15"}, "settings.sync_interval_minutes"),
        ({"order_statuses": []}, "settings.order_statuses"),
        ({"order_statuses": ["lost"]}, "settings.order_statuses.0"),
        ({"order_statuses": ["paid", "paid"]}, "settings.order_statuses"),
        ({"store_id": "Has Spaces"}, "settings.store_id"),
        ({"flows": {"orders": "yes"}}, "settings.flows.orders"),
        ({"flows": {"billing": True}}, "settings.flows"),
        ({"colour": "red"}, "settings"),
    ],
)
def test_it_refuses_settings_that_break_the_schema(template, overrides, field):
    with pytest.raises(SettingsInvalid) as caught:
        settings_effective(template=template, overrides=overrides)
    assert list(caught.value.fields) == [field]

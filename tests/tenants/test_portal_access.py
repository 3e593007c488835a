"""A template version's `portal` declaration: what the customer may change. Checked when the
template is published; read by the portal; enforced by the checks its services call."""

import copy

import pytest

from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.errors import FlowNotToggleable, SettingNotEditable, TemplateInvalid
from tenants.models import TemplateVersion
from tenants.services import template_document_read, template_load
from tenants.services.portal_access import (
    customer_flow_patch,
    customer_settings_patch,
    editable_settings,
    toggleable_flows,
)

DEMO = template_document_read(path=DEMO_TEMPLATE_FILE)


def _with_portal(portal) -> dict:
    document = copy.deepcopy(DEMO)
    document["portal"] = portal
    return document


@pytest.mark.django_db
def test_the_demo_declares_editable_settings_and_switchable_flows():
    template, _ = template_load(document=DEMO)
    version = TemplateVersion.objects.get(template=template)

    settings = editable_settings(version=version)
    kinds = {s.name: s.kind for s in settings}
    assert kinds == {
        "sync_interval_minutes": "interval",
        "order_statuses": "multi_enum",
        "erp_order_type": "enum",
        "update_existing_customers": "boolean",
    }
    assert [f.path for f in toggleable_flows(version=version)] == ["flows.customers", "flows.stock"]
    # It sets the flows' schedule: only what a schedule says exactly, within 5 to 1440.
    assert settings[0].intervals == (
        5,
        6,
        10,
        12,
        15,
        20,
        30,
        60,
        120,
        180,
        240,
        360,
        480,
        720,
        1440,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("portal", "path"),
    [
        ({"settings": ["nope"]}, "portal.settings.0"),
        ({"settings": ["flows"]}, "portal.settings.0"),  # switches: they belong under flows
        ({"flows": ["store_id"]}, "portal.flows.0"),
        ({"flows": ["flows.nope"]}, "portal.flows.0"),
        ({"pages": []}, "template.portal"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_entry(portal, path):
    with pytest.raises(TemplateInvalid) as caught:
        template_load(document=_with_portal(portal))

    assert any(name.startswith(path) for name in caught.value.fields), caught.value.fields


@pytest.mark.django_db
def test_a_version_without_a_declaration_lets_the_customer_change_nothing():
    document = copy.deepcopy(DEMO)
    document.pop("portal")
    template, _ = template_load(document=document)
    version = TemplateVersion.objects.get(template=template)

    assert editable_settings(version=version) == [] and toggleable_flows(version=version) == []
    with pytest.raises(SettingNotEditable):
        customer_settings_patch(version=version, values={"sync_interval_minutes": 30}, effective={})
    with pytest.raises(FlowNotToggleable):
        customer_flow_patch(version=version, flow_path="flows.stock", enabled=True)


@pytest.mark.django_db
def test_only_changed_settings_are_patched():
    template, _ = template_load(document=DEMO)
    version = TemplateVersion.objects.get(template=template)

    patch = customer_settings_patch(
        version=version,
        values={"sync_interval_minutes": 15, "erp_order_type": "invoice"},
        effective={"sync_interval_minutes": 15, "erp_order_type": "sales_order"},
    )

    assert patch == {"erp_order_type": "invoice"}
    assert customer_flow_patch(version=version, flow_path="flows.stock", enabled=False) == {
        "flows": {"stock": False}
    }

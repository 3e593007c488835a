"""OAuth slots in templates: what the schema takes and refuses, and that typed credentials are
refused for them."""

import copy

import pytest

from tenants.demo_seed import DEMO_OAUTH_TEMPLATE_FILE, demo_template_document
from tenants.errors import OAuthSlotOnly, TemplateInvalid
from tenants.services import (
    template_load,
    template_validate,
    tenant_connection_submit,
    tenant_create,
)
from tenants.services.oauth_maps import DEFAULT_MAPS, oauth_maps

CRM_TEMPLATE = demo_template_document(DEMO_OAUTH_TEMPLATE_FILE)


def _slots(change=None):
    slots = copy.deepcopy(CRM_TEMPLATE["slots"])
    if change:
        change(slots)
    return slots


def test_the_crm_template_file_is_valid():
    template_validate(slots=_slots(), settings_schema=CRM_TEMPLATE["settings_schema"])
    assert oauth_maps(CRM_TEMPLATE["slots"][0]) == DEFAULT_MAPS
    assert oauth_maps(CRM_TEMPLATE["slots"][1]) == {}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: s[0].pop("oauth"), "slots.0"),
        (lambda s: s[0]["oauth"].update(pkce="plain"), "slots.0.oauth.pkce"),
        (lambda s: s[0]["oauth"].update(authorize_url="javascript:alert(1)"), "slots.0.oauth"),
        (
            lambda s: s[0]["oauth"].update(maps={"access_token": "rest.bearerToken"}),
            "slots.0.oauth.maps.access_token",
        ),
        # A slot of typed fields needs fields, and has no `oauth` part.
        (lambda s: s[0].pop("kind"), "slots.0"),
        (lambda s: s[1].update(oauth=s[0]["oauth"]), "slots.1"),
    ],
)
def test_a_broken_oauth_slot_is_refused_with_its_path(change, path):
    with pytest.raises(TemplateInvalid) as raised:
        template_validate(slots=_slots(change), settings_schema=CRM_TEMPLATE["settings_schema"])
    assert any(key.startswith(path) for key in raised.value.fields), raised.value.fields


def test_typed_credentials_are_refused_for_an_oauth_slot(db):
    template, _ = template_load(document=CRM_TEMPLATE)
    tenant, _ = tenant_create(external_id="acme", name="Acme", template=template)
    with pytest.raises(OAuthSlotOnly):
        tenant_connection_submit(tenant=tenant, slot_key="crm", values={"token": "x"})


def test_the_api_says_which_slots_are_connected_by_consent(db, api):
    # A host app rendering its own credential form from GET /templates/{key} saw the CRM slot
    # as a slot with no fields, like any other, and learnt that it takes no typed credentials
    # only from the 400 `oauth_slot` of its PUT …/connections/crm. The slot says so now.
    template_load(document=CRM_TEMPLATE)

    template = api.get("/api/v1/templates/crm-to-erp").json()
    version = api.get("/api/v1/templates/crm-to-erp/versions/1.0.0").json()

    for slots in (template["slots"], version["slots"]):
        assert {slot["key"]: slot["oauth"] for slot in slots} == {"crm": True, "erp": False}

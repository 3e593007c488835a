"""A connect link the host API issues for one OAuth slot goes straight to the app's consent
(`consent_url`), and the customer comes back to the form's result page."""

import pytest
from django.test import Client

from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, TenantConnection
from tenants.services import template_load, tenant_create
from tests.connect.oauth_helpers import callback_path
from tests.fixtures.crm_oauth import DEMO_OAUTH_CLIENTS, consent, crm_template_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_tenant(settings, integrator):
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    integrator.control.seed_crm()
    template, _ = template_load(document=crm_template_document(integrator))
    tenant, _ = tenant_create(external_id="acme", name="Acme", template=template)
    return tenant


def _issue(api, **body) -> dict:
    answer = api.post("/api/v1/tenants/acme/connect-links", body, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_a_link_for_an_oauth_slot_goes_straight_to_consent_and_back_to_the_form(
    api, crm_tenant, integrator
):
    issued = _issue(api, slot="crm")
    assert issued["consent_url"] == issued["url"].rstrip("/") + "/oauth/crm/consent"

    browser = Client()
    started = browser.get(issued["consent_url"].removeprefix("http://testserver"))
    assert started.status_code == 302
    assert started["Location"].startswith(integrator.demo_url("crm") + "/oauth/authorize?")

    back = browser.get(callback_path(consent(started["Location"])))
    # A top-level consent: back to the form's pages (the other slot still wants credentials).
    assert back.status_code == 303
    assert back["Location"] == f"/connect/{issued['token']}/?saved=crm#main"
    assert browser.get(back["Location"]).status_code == 200
    assert TenantConnection.objects.get(tenant=crm_tenant, slot_key="crm").status == (
        ConnectionStatus.OK
    )


def test_only_a_link_made_for_that_oauth_slot_has_a_consent_url(api, crm_tenant):
    assert _issue(api)["consent_url"] is None
    other_slot = next(
        slot["key"] for slot in crm_tenant.template_version.slots if slot["key"] != "crm"
    )
    assert _issue(api, slot=other_slot)["consent_url"] is None
    # A link for the whole form cannot be turned into one that skips it.
    whole_form = connect_link_create(tenant=crm_tenant).token
    assert Client().get(f"/connect/{whole_form}/oauth/crm/consent").status_code == 403


@pytest.mark.parametrize(
    ("language", "lead", "wrong"),
    [
        ("en", "Connect this app by approving access on its own page.", "Enter the credentials"),
        (
            "de",
            "Verbinden Sie diese App, indem Sie den Zugriff auf ihrer eigenen Seite erteilen.",
            "Zugangsdaten für",
        ),
    ],
)
def test_a_page_for_one_oauth_slot_does_not_ask_for_credentials(crm_tenant, language, lead, wrong):
    # An OAuth slot has nothing to type: its page asks for the app's approval, not for the
    # credentials a typed slot's page asks for.
    link = connect_link_create(tenant=crm_tenant, slot_key="crm", locale=language)

    page = Client().get(link.path).content.decode()

    assert lead in page
    assert wrong not in page.split("<main", 1)[1].split("</section>", 1)[0]

"""The template's own texts (name, slot and field labels, help, placeholders, settings titles,
option labels) in the page's language, from the template's `translations`; English where it
has none."""

import pytest
from django.test import Client
from django.utils import timezone, translation

from connect.template_texts import template_text
from tenants.connect_links import connect_link_create
from tenants.errors import TemplateInvalid
from tenants.models import (
    ConnectionStatus,
    IntegrationTemplate,
    Tenant,
    TenantConnection,
    TenantStatus,
)
from tenants.services import template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.connect.oauth_helpers import connect_by_consent
from tests.connect.pages import forms_by_slot
from tests.fixtures.crm_oauth import DEMO_OAUTH_CLIENTS, crm_template_document

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}
SHOP_DE = {
    "Shop to ERP order sync": "Bestellabgleich Shop → ERP",
    "Shop": "Onlineshop",
    "Your online store, where the orders come from.": "Ihr Shop, woher die Bestellungen kommen.",
    "Store API address": "API-Adresse des Shops",
    "Shown in your store admin under Settings, API access.": "Zu finden in der Shop-Verwaltung.",
    "https://shop.example.com/api": "https://shop.example.de/api",
    "API key": "API-Schlüssel",
}


@pytest.fixture
def german_texts(acme):
    IntegrationTemplate.objects.filter(pk=acme.template_id).update(translations={"de": SHOP_DE})
    return SHOP_DE


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "Onlineshop"), ("de-at", "Onlineshop"), ("fr", "Shop"), ("en", "Shop")],
)
def test_a_text_is_looked_up_in_the_language_then_its_base_language(language, expected):
    with translation.override(language):
        assert template_text({"de": {"Shop": "Onlineshop"}}, "Shop") == expected


def test_a_template_without_translations_reads_as_written():
    with translation.override("de"):
        assert template_text({}, "Shop") == "Shop"
        assert template_text({"de": {"Shop": "Onlineshop"}}, "ERP") == "ERP"
        assert template_text({"de": {"": "x"}}, "") == ""


def test_the_form_shows_the_templates_texts_in_german(acme, german_texts, issue_link, client):
    html = client.get(issue_link(acme).path, **GERMAN).content.decode()

    assert "Bestellabgleich Shop → ERP" in html
    assert ">Onlineshop</h2>" in html
    assert "Ihr Shop, woher die Bestellungen kommen." in html
    assert "API-Adresse des Shops" in html
    assert "Zu finden in der Shop-Verwaltung." in html
    assert 'placeholder="https://shop.example.de/api"' in html
    assert "API-Schlüssel" in html
    assert ">Onlineshop verbinden</span>" in html  # the service's sentence, the template's name
    assert "Store API address" not in html
    # A text the template did not translate stays as written: the ERP slot's label.
    assert '><span lang="en">ERP</span></h2>' in html


def test_the_form_stays_english_for_an_english_browser(acme, german_texts, issue_link, client):
    html = client.get(issue_link(acme).path, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert ">Shop</h2>" in html and "Store API address" in html
    assert "Onlineshop" not in html


def test_a_german_field_error_names_the_german_label(acme, german_texts, issue_link, client, pages):
    form = forms_by_slot(client.get(issue_link(acme).path, **GERMAN).content.decode())["shop"]

    response = client.post(form.action, form.data(store_url="not a url", api_key="k"), **GERMAN)

    html = response.content.decode()
    assert "API-Adresse des Shops: Geben Sie eine gültige URL ein." in html


def test_loading_the_template_again_updates_its_translations_without_a_new_version(sandbox, db):
    document = demo_template_document(sandbox)
    template_load(document=document)
    document["translations"] = {"de": {"Shop": "Onlineshop"}}

    template, _ = template_load(document=document)

    assert template.translations == {"de": {"Shop": "Onlineshop"}}
    assert template.versions.count() == 1


@pytest.mark.parametrize(
    ("translations", "problem"),
    [
        ({"German": {"Shop": "Onlineshop"}}, "German"),
        ({"de": {"Shop": 5}}, "5"),
        ({"de": ["Shop", "Onlineshop"]}, "not of type 'object'"),
        ({"de": {"Shop": ""}}, "should be non-empty"),
    ],
)
def test_a_malformed_translations_section_is_refused_by_path(sandbox, db, translations, problem):
    document = {**demo_template_document(sandbox), "translations": translations}

    with pytest.raises(TemplateInvalid) as refused:
        template_load(document=document)

    messages = " ".join(" ".join(m) for m in refused.value.fields.values())
    assert any(path.startswith("template.translations") for path in refused.value.fields)
    assert problem in messages
    assert not IntegrationTemplate.objects.exists()


def test_a_text_the_template_left_english_is_marked_english_on_a_german_page(
    acme, german_texts, issue_link, client
):
    # The ERP slot's texts have no German: shown as written, a screen reader must read them
    # with English pronunciation, as it does the apps' own words (docs/i18n.md). What the
    # template did translate is the page's language and carries no mark.
    html = client.get(issue_link(acme).path, **GERMAN).content.decode()

    assert '<h2 id="slot-erp-title"><span lang="en">ERP</span></h2>' in html
    assert '<h2 id="slot-shop-title">Onlineshop</h2>' in html
    assert (
        '<p class="muted"><span lang="en">Your back office, where orders are billed.</span>' in html
    )
    assert '<span lang="en">Parallel requests</span>' in html
    assert '<span lang="en">API key</span>' not in html  # translated: API-Schlüssel
    assert '<span class="button-label"><span lang="en">ERP</span> verbinden</span>' in html
    assert ">Onlineshop verbinden</span>" in html
    # An option cannot hold a span: the option itself is marked.
    assert '<option value="eu" lang="en">EU subsidiary</option>' in html
    # In an attribute a span cannot be: the text as it is.
    assert 'data-busy-label="Prüfung bei ERP …"' in html


def test_an_english_page_marks_nothing(acme, issue_link, client):
    html = client.get(issue_link(acme).path, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'lang="en"' not in html.replace('<html lang="en">', "")


def test_a_sentence_made_around_an_english_label_marks_the_label_english(
    acme, german_texts, issue_link, client
):
    # The check's refusal, said in German around the ERP slot's label, which the template
    # left English: the label alone is marked, so that a screen reader says "ERP" as English
    # and the rest of the sentence as German.
    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.FAILED,
        connection_id="e" * 24,
        last_ping_at=timezone.now(),
        last_ping_error="401 Unauthorized",
    )

    html = client.get(issue_link(acme).path, **GERMAN).content.decode()

    assert '<span lang="en">ERP</span> hat diese Zugangsdaten nicht angenommen.' in html


@pytest.fixture
def crm_untranslated(db, settings, integrator):
    """The CRM template with no translations: its labels stay English on German pages."""
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    integrator.control.seed_crm()
    document = crm_template_document(integrator)
    document.pop("translations", None)
    template, _ = template_load(document=document)
    tenant, _ = tenant_create(external_id="initech", name="Initech", template=template)
    return tenant


def test_why_a_consent_did_not_connect_marks_the_apps_label_english(crm_untranslated):
    denied = '<span lang="en">CRM</span> nicht erteilt, daher wurde nichts gespeichert.'
    link = connect_link_create(tenant=crm_untranslated, locale="de").path
    portal = connect_link_create(
        tenant=crm_untranslated, locale="de", sections=["connections"]
    ).path

    # The result page of the consent's popup, then the form and the integration page that
    # the popup's outcome reloads.
    result = connect_by_consent(Client(), link, decision="deny").content.decode()
    form = Client().get(link, {"oauth": "denied", "slot": "crm"}).content.decode()
    page = Client().get(portal, {"oauth": "denied", "slot": "crm"}).content.decode()

    for html in (result, form, page):
        assert f"Sie haben den Zugriff in {denied}" in html
        assert 'auf der Seite von <span lang="en">CRM</span> zu.' in html


def test_the_status_page_marks_the_english_label_of_an_app_to_connect_again(
    acme, german_texts, issue_link, client
):
    Tenant.objects.filter(pk=acme.pk).update(status=TenantStatus.DEGRADED)
    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 Unauthorized"
    )
    path = issue_link(acme).path

    html = client.get(path + "status/", **GERMAN).content.decode()
    body = client.get(path + "status.json", **GERMAN).json()

    assert '<span lang="en">ERP</span> funktioniert gerade nicht.' in html
    assert body["detail"].startswith("ERP funktioniert gerade nicht.")  # JSON: plain text

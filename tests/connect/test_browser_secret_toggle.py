"""The Show/Hide button of a secret field, in a real browser: its accessible name contains
the word it shows in both states (WCAG 2.5.3 Label in Name), so a speech-input user who says
"click Hide" finds it, and the name carries the state (no aria-pressed beside it)."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create
from tenants.services import template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.fixtures.browser import launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("locale", "show", "hide", "show_name", "hide_name"),
    [
        ("en-US", "Show", "Hide", "Show API key", "Hide API key"),
        ("de-DE", "Anzeigen", "Verbergen", "API key anzeigen", "API key verbergen"),
    ],
)
def test_the_secret_toggles_name_follows_its_visible_word(
    integrator, live_server, locale, show, hide, show_name, hide_name
):
    template, _ = template_load(document=demo_template_document(integrator))
    tenant, _ = tenant_create(external_id="acme", name="Acme Corp", template=template)
    form_url = live_server.url + connect_link_create(tenant=tenant).path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(locale=locale).new_page()
        page.set_default_timeout(15_000)
        page.goto(form_url)
        shop = page.locator("#slot-shop")
        key = shop.get_by_label("API key", exact=True)
        toggle = shop.locator(".secret-toggle")

        expect(toggle).to_have_text(show)
        expect(toggle).to_have_accessible_name(show_name)
        expect(key).to_have_attribute("type", "password")

        toggle.click()
        expect(key).to_have_attribute("type", "text")
        expect(toggle).to_have_text(hide)
        expect(toggle).to_have_accessible_name(hide_name)
        # The name says the state; a pressed state as well would contradict it.
        expect(toggle).not_to_have_attribute("aria-pressed", "true")
        expect(toggle).not_to_have_attribute("aria-pressed", "false")

        toggle.click()
        expect(key).to_have_attribute("type", "password")
        expect(toggle).to_have_text(show)
        expect(toggle).to_have_accessible_name(show_name)
        browser.close()

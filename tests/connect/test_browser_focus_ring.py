"""After a slot is saved the page comes back at `#main`, so focus (and a screen reader) starts
at the page's content again. The content area is a landmark, not a control: a person who typed
the credentials must not see the whole page framed by a focus ring."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create
from tenants.services import template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.fixtures.browser import launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_content_area_focused_after_a_save_shows_no_ring(integrator, live_server):
    sandbox = integrator
    template, _ = template_load(document=demo_template_document(sandbox))
    tenant, _ = tenant_create(external_id="acme", name="Acme Corp", template=template)
    form_url = live_server.url + connect_link_create(tenant=tenant).path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(form_url)
        shop = page.locator("#slot-shop")
        # Typed, as a person does: the keyboard was the last thing used when the page returns.
        shop.get_by_label("Store API address").press_sequentially(sandbox.demo_url("shop"))
        shop.get_by_label("API key", exact=True).press_sequentially(sandbox.demo_keys["shop"])
        shop.get_by_label("API key", exact=True).press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Shop is connected.")

        main = page.locator("main")
        expect(main).to_be_focused()
        ring = main.evaluate(
            "m => { const s = getComputedStyle(m); return [s.boxShadow, s.outlineStyle]; }"
        )
        browser.close()

    assert ring == ["none", "none"]

"""End to end in a real browser: the form embedded in a host app's page on another site.

Headless Chromium from Debian's packages (`.ci/run` installs them), driven by Playwright. A
small "host app" on 127.0.0.1 embeds the form served by the live server on localhost (a
different site, so the browser treats the iframe as cross-site and keeps no cookies for it).
The user enters a wrong key, sees why it failed, enters the right one, connects the second app,
and follows the status page while the real Celery worker provisions the tenant against the
sandbox, then goes back to the host app. Screenshots of each step go to test-output/connect/.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create
from tenants.models import TenantStatus
from tenants.services import template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.fixtures.browser import launch, screenshots_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_KEY = "sk-wrong-0000"


def test_a_user_connects_both_apps_inside_the_host_app_and_reaches_active(
    sandbox,
    provisioning_worker,
    live_server,
    host_app,
):
    shots = screenshots_dir("connect")
    template, _ = template_load(document=demo_template_document(sandbox))
    tenant, _ = tenant_create(
        external_id="acme", name="Acme Corp", template=template, allowed_origins=[host_app.origin]
    )
    issued = connect_link_create(tenant=tenant, return_url=f"{host_app.origin}/integrations/done")
    other, _ = tenant_create(external_id="globex", name="Globex Inc", template=template)
    fresh_form_url = live_server.url + connect_link_create(tenant=other).path
    form_url = live_server.url.replace("127.0.0.1", "localhost") + issued.path
    host_app.embed_src = form_url

    # No ORM inside this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1100, "height": 1150})
        page.set_default_timeout(15_000)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="Connect your apps")).to_be_visible()
        page.screenshot(path=shots / "1-form.png")

        shop = frame.locator("#slot-shop")
        shop.get_by_label("Store API address").fill(sandbox.demo_url("shop"))
        shop.get_by_label("API key", exact=True).fill(WRONG_KEY)
        shop.get_by_role("button", name="Connect Shop").click()
        alert = frame.get_by_role("alert")
        expect(alert).to_contain_text("Shop did not accept these credentials")
        # Focus is on the error summary, not left on <body>, even inside the cross-site iframe.
        expect(alert).to_be_focused()
        expect(shop.get_by_label("API key", exact=True)).to_have_value("")
        page.screenshot(path=shots / "2-wrong-key.png")

        shop.get_by_label("API key", exact=True).fill(sandbox.demo_keys["shop"])
        shop.get_by_role("button", name="Connect Shop").click()
        expect(frame.get_by_role("status")).to_contain_text("Shop is connected.")
        page.screenshot(path=shots / "3-shop-connected.png")

        erp = frame.locator("#slot-erp")
        erp.get_by_label("API key", exact=True).fill(sandbox.demo_keys["erp"])
        erp.get_by_label("Subsidiary").select_option("eu")
        erp.get_by_role("button", name="Connect ERP").click()
        expect(frame.get_by_role("list", name="Setup steps")).to_be_visible()
        page.screenshot(path=shots / "4-status.png")

        expect(frame.get_by_role("heading", name="Your integration is live")).to_be_visible(
            timeout=45_000
        )
        page.screenshot(path=shots / "5-active.png")

        frame.get_by_role("link", name="Continue").click()
        page.wait_for_url(f"{host_app.origin}/integrations/done")
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()

        phone = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=2)
        phone.goto(fresh_form_url)
        phone.screenshot(path=shots / "6-phone.png")
        phone.goto(f"{live_server.url}/connect/no-longer-valid/")
        expect(phone.get_by_role("heading", name="This link does not work")).to_be_visible()
        phone.screenshot(path=shots / "7-invalid-link.png")
        browser.close()

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    integrations = sandbox.control.objects("integrations")["objects"]["integrations"]
    assert len([i for i in integrations if i["_id"] == tenant.integration_id]) == 1

"""OAuth 2 in a real browser: the form inside a host app's cross-site iframe, "Connect with
CRM", the demo CRM's consent in a popup, the outcome told to the frame by postMessage.

Approve: the slot turns connected and, with the ERP key typed in, provisioning reaches active.
Deny: the frame says so and offers the button again. A replayed callback URL: a plain page
that says the app is connected.
Popups blocked: the consent runs in the top window and comes back to the form.
Screenshots go to test-output/connect-oauth/.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tenants.services import template_load, tenant_create
from tests.fixtures.browser import launch, screenshots_dir
from tests.fixtures.crm_oauth import (
    DEMO_OAUTH_CLIENTS,
    crm_oauth_clients,
    crm_template_document,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_with_crm_in_a_popup_inside_the_host_app(
    sandbox, provisioning_worker, live_server, host_app, settings
):
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    shots = screenshots_dir("connect-oauth")
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(
        external_id="acme", name="Acme Corp", template=template, allowed_origins=[host_app.origin]
    )
    fallback_tenant, _ = tenant_create(
        external_id="initech", name="Initech", template=template, allowed_origins=[host_app.origin]
    )
    site = live_server.url.replace("127.0.0.1", "localhost")
    host_app.embed_src = site + connect_link_create(tenant=tenant).path
    fallback_src = site + connect_link_create(tenant=fallback_tenant).path
    callbacks: list[str] = []

    # No ORM inside this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1100, "height": 1150})
        context.on(
            "request",
            lambda request: (
                callbacks.append(request.url) if "/connect/oauth/callback" in request.url else None
            ),
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        crm = frame.locator("#slot-crm")
        expect(crm.get_by_role("link", name="Connect with CRM")).to_be_visible()
        expect(crm).to_contain_text("CRM will ask you to allow: read your contacts.")
        page.screenshot(path=shots / "1-form.png")

        # Deny first.
        with page.expect_popup() as opened:
            crm.get_by_role("link", name="Connect with CRM").click()
        popup = opened.value
        expect(popup.get_by_role("button", name="Deny")).to_be_visible()
        popup.screenshot(path=shots / "2-consent-popup.png")
        with popup.expect_event("close"):
            popup.get_by_role("button", name="Deny").click()
        expect(crm.get_by_role("alert")).to_contain_text("You did not approve access in CRM")
        page.screenshot(path=shots / "3-denied.png")

        # Then the ERP key, and approve.
        erp = frame.locator("#slot-erp")
        erp.get_by_label("ERP API URL").fill(sandbox.demo_url("erp"))
        erp.get_by_label("ERP API key", exact=True).fill(sandbox.demo_keys["erp"])
        erp.get_by_role("button", name="Connect ERP").click()
        expect(frame.get_by_role("status")).to_contain_text("ERP is connected.")
        with page.expect_popup() as opened:
            crm.get_by_role("link", name="Connect with CRM").click()
        popup = opened.value
        with popup.expect_event("close"):  # it closes itself once it told the frame
            popup.get_by_role("button", name="Approve").click()
        expect(frame.get_by_role("list", name="Setup steps")).to_be_visible()
        page.screenshot(path=shots / "4-status.png")
        expect(frame.get_by_role("heading", name="Your integration is live")).to_be_visible(
            timeout=45_000
        )
        page.screenshot(path=shots / "5-active.png")

        # The callback URL again (from history, say): used, so nothing happens, and the page
        # says that the app is connected (not that nothing was saved).
        replay = context.new_page()
        replay.goto(callbacks[-1])
        expect(replay.get_by_role("heading", name="CRM is connected")).to_be_visible()
        expect(replay.locator(".lead")).to_have_text(
            "This sign-in link was already used, and CRM is connected."
        )
        expect(replay.get_by_role("alert")).to_have_count(0)
        replay.screenshot(path=shots / "6-replayed.png")

        # Popups blocked: the whole window goes through the consent and back to the form.
        blocked = browser.new_context(viewport={"width": 1100, "height": 1150})
        blocked.add_init_script("window.open = function () { return null; };")
        top = blocked.new_page()
        top.set_default_timeout(15_000)
        host_app.embed_src = fallback_src
        top.goto(f"{host_app.origin}/integrations")
        top.frame_locator("iframe").get_by_role("link", name="Connect with CRM").click()
        top.get_by_role("button", name="Approve").click()
        expect(top.get_by_role("status")).to_contain_text("CRM is connected.")
        assert top.url.startswith(site + "/connect/")
        top.screenshot(path=shots / "7-popup-blocked-connected.png")
        browser.close()

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    crm_row = TenantConnection.objects.get(tenant=tenant, slot_key="crm")
    assert crm_row.status == ConnectionStatus.OK
    fallback = TenantConnection.objects.get(tenant=fallback_tenant, slot_key="crm")
    assert fallback.status == ConnectionStatus.OK


def test_connect_with_crm_from_the_link_opened_directly(
    sandbox, provisioning_worker, live_server, settings
):
    """The customer opens the link itself (no host page around the form): the popup still
    tells the form, which shows the slot connected without a reload. Django's default
    Cross-Origin-Opener-Policy (same-origin) cut the popup off from a top-level form."""
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(external_id="hooli", name="Hooli", template=template)
    url = live_server.url + connect_link_create(tenant=tenant).path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        page.goto(url)
        crm = page.locator("#slot-crm")
        with page.expect_popup() as opened:
            crm.get_by_role("link", name="Connect with CRM").click()
        popup = opened.value
        with popup.expect_event("close"):  # it told the form, then closed itself
            popup.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("1 of 2 connected")).to_be_visible()
        expect(crm).to_contain_text("Connected")
        page.screenshot(path=screenshots_dir("connect-oauth") / "6-top-level-connected.png")

        # Reconnect, then Deny: the slot says so, and that its connection is as it was.
        crm.get_by_role("link", name="Reconnect", exact=True).click()
        with page.expect_popup() as opened:
            crm.get_by_role("link", name="Reconnect with CRM").click()
        popup = opened.value
        with popup.expect_event("close"):
            popup.get_by_role("button", name="Deny").click()
        expect(crm.get_by_role("alert")).to_contain_text(
            "You did not approve access in CRM, so your existing connection is unchanged."
        )
        expect(crm).to_contain_text("Connected")
        page.screenshot(path=screenshots_dir("connect-oauth") / "7-reconnect-denied.png")
        browser.close()

    connection = TenantConnection.objects.get(tenant=tenant, slot_key="crm")
    assert connection.status == ConnectionStatus.OK


def test_a_consent_finished_after_the_form_was_reloaded_still_shows_on_the_form(
    sandbox, provisioning_worker, live_server, host_app, settings
):
    """The customer opens the consent popup, then the form in the host app's iframe reloads
    (they saved another slot, or pressed reload) before they approve. The popup used to tell
    nobody and close: the form went on saying "Not connected" beside a connected slot."""
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(
        external_id="umbrella",
        name="Umbrella",
        template=template,
        allowed_origins=[host_app.origin],
    )
    site = live_server.url.replace("127.0.0.1", "localhost")
    host_app.embed_src = site + connect_link_create(tenant=tenant).path

    with sync_playwright() as playwright:
        browser, page, frame = _in_host_app(playwright, host_app)
        with page.expect_popup() as opened:
            frame.get_by_role("link", name="Connect with CRM").click()
        popup = opened.value
        expect(popup.get_by_role("button", name="Approve")).to_be_visible()
        form = page.frames[1]
        form.goto(form.url)  # the form reloads while the consent is open
        expect(frame.locator("#slot-crm")).to_contain_text("Not connected")
        with popup.expect_event("close"):
            popup.get_by_role("button", name="Approve").click()
        expect(frame.get_by_role("status")).to_contain_text("CRM is connected.")
        expect(frame.locator("#slot-crm")).to_contain_text("Connected")
        browser.close()

    assert TenantConnection.objects.get(tenant=tenant, slot_key="crm").status == "ok"


def test_reconnect_on_the_integration_page_keeps_the_customer_in_the_host_app(
    sandbox, provisioning_worker, live_server, host_app, settings
):
    """The integration page, in the host app's iframe: "Reconnect" on an OAuth slot used to
    take the whole window to the app's consent and then to this service's own page, out of
    the host app. It opens the consent in a popup, as the form does; the frame shows the page
    again with the slot reconnected, and the host app's page stays where it was."""
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(
        external_id="wonka", name="Wonka", template=template, allowed_origins=[host_app.origin]
    )
    site = live_server.url.replace("127.0.0.1", "localhost")
    host_app.embed_src = site + connect_link_create(tenant=tenant).path
    portal_src = site + connect_link_create(tenant=tenant, sections=["connections"]).path

    with sync_playwright() as playwright:
        browser, page, frame = _in_host_app(playwright, host_app)
        with page.expect_popup() as opened:
            frame.get_by_role("link", name="Connect with CRM").click()
        with opened.value.expect_event("close"):
            opened.value.get_by_role("button", name="Approve").click()
        expect(frame.locator("#slot-crm")).to_contain_text("Connected")

        host_app.embed_src = portal_src
        page.goto(f"{host_app.origin}/integrations")
        crm = frame.locator("#connection-crm")
        with page.expect_popup() as opened:
            crm.get_by_role("link", name="Reconnect CRM").click()
        popup = opened.value
        with popup.expect_event("close"):
            popup.get_by_role("button", name="Approve").click()
        expect(frame.get_by_role("status")).to_contain_text("CRM is connected.")
        assert page.url == f"{host_app.origin}/integrations"  # still in the host app
        page.screenshot(path=screenshots_dir("connect-oauth") / "8-portal-reconnected.png")
        browser.close()

    connection = TenantConnection.objects.get(tenant=tenant, slot_key="crm")
    assert connection.status == ConnectionStatus.OK


def _in_host_app(playwright, host_app):
    """A browser on the host app's integrations page: (browser, page, its iframe)."""
    browser = launch(playwright)
    page = browser.new_context(viewport={"width": 1100, "height": 1150}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{host_app.origin}/integrations")
    return browser, page, page.frame_locator("iframe")


def test_a_sign_in_page_left_in_the_window_keeps_no_code_in_its_address(live_server):
    """An expired or reused sign-in in the top window (popups blocked, or the callback URL
    opened again) stays on the callback's page: its address kept the app's `code` and our
    `state`, in the address bar and in the browser's history. Spent, but no one's to see."""
    callback = live_server.url + "/connect/oauth/callback?code=crmcode-left-behind&state=spent"

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context().new_page()
        page.set_default_timeout(15_000)
        page.goto(callback)
        expect(page.get_by_role("alert")).to_contain_text("already used")
        address = page.url
        history_entry = page.evaluate("window.location.href")
        browser.close()

    assert address == live_server.url + "/connect/oauth/callback"
    assert "crmcode" not in history_entry


def test_a_german_pages_waiting_button_keeps_the_apps_english_label_marked(
    sandbox, live_server, settings
):
    # "CRM" left English by the template: "Mit <span lang="en">CRM</span> verbinden". While
    # the consent is open the button says "Warten auf CRM …" with the label still marked, and
    # when the popup is closed without an answer, its words come back with their mark.
    settings.OAUTH_CLIENTS = crm_oauth_clients(sandbox)
    template, _ = template_load(document=crm_template_document(sandbox))
    type(template).objects.filter(pk=template.pk).update(translations={})
    tenant, _ = tenant_create(external_id="hooli", name="Hooli", template=template)
    url = live_server.url + connect_link_create(tenant=tenant, locale="de").path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        page.goto(url)
        link = page.locator("#slot-crm a[data-oauth-start]")
        label = link.locator(".button-label")
        idle = label.evaluate("e => e.innerHTML")
        with page.expect_popup() as opened:
            link.click()
        expect(label).to_have_text("Warten auf CRM …")
        busy = label.evaluate("e => e.innerHTML")
        opened.value.close()
        expect(link).not_to_have_attribute("aria-busy", "true")
        after = label.evaluate("e => e.innerHTML")
        browser.close()

    assert idle == 'Mit <span lang="en">CRM</span> verbinden'
    assert busy == 'Warten auf <span lang="en">CRM</span> …'
    assert after == idle


def test_a_consent_that_did_not_connect_puts_focus_on_its_message(
    sandbox, provisioning_worker, live_server, host_app, settings
):
    """Deny in the consent popup (or, popups blocked, in the whole window): the form came back
    at `#slot-crm`, a card that cannot take focus, and the browser's jump to it took focus
    away from the error summary that connect.js had focused. Focus was on nothing, so a
    screen reader said nothing of "There is a problem", and Tab started at the page's top.
    The summary has focus, as after credentials that did not work."""
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(
        external_id="vandelay",
        name="Vandelay",
        template=template,
        allowed_origins=[host_app.origin],
    )
    site = live_server.url.replace("127.0.0.1", "localhost")
    host_app.embed_src = site + connect_link_create(tenant=tenant).path

    with sync_playwright() as playwright:
        browser, page, frame = _in_host_app(playwright, host_app)
        with page.expect_popup() as opened:
            frame.get_by_role("link", name="Connect with CRM").click()
        popup = opened.value
        with popup.expect_event("close"):
            popup.get_by_role("button", name="Deny").click()
        expect(frame.get_by_role("alert")).to_contain_text("You did not approve access in CRM")
        page.wait_for_load_state("load")
        in_popup = page.frames[1].evaluate("document.activeElement.id")

        blocked = browser.new_context(viewport={"width": 1100, "height": 1150})
        blocked.add_init_script("window.open = function () { return null; };")
        top = blocked.new_page()
        top.set_default_timeout(15_000)
        top.goto(f"{host_app.origin}/integrations")
        top.frame_locator("iframe").get_by_role("link", name="Connect with CRM").click()
        top.get_by_role("button", name="Deny").click()
        expect(top.get_by_role("alert")).to_contain_text("You did not approve access in CRM")
        top.wait_for_load_state("load")
        in_top_window = top.evaluate("document.activeElement.id")
        browser.close()

    assert in_popup == "slot-crm-errors"
    assert in_top_window == "slot-crm-errors"


def test_a_consent_that_connected_puts_focus_where_the_form_says_so(
    sandbox, provisioning_worker, live_server, host_app, settings
):
    """Approve in the consent popup: the form came back with no fragment, and focus was on
    nothing (Tab began at the page's top, a screen reader started nowhere). As after typed
    credentials that worked, the page's main part, whose top says "CRM is connected.", has it.
    """
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(
        external_id="kramerica",
        name="Kramerica",
        template=template,
        allowed_origins=[host_app.origin],
    )
    site = live_server.url.replace("127.0.0.1", "localhost")
    host_app.embed_src = site + connect_link_create(tenant=tenant).path

    with sync_playwright() as playwright:
        browser, page, frame = _in_host_app(playwright, host_app)
        with page.expect_popup() as opened:
            frame.get_by_role("link", name="Connect with CRM").click()
        popup = opened.value
        with popup.expect_event("close"):
            popup.get_by_role("button", name="Approve").click()
        expect(frame.get_by_role("status")).to_contain_text("CRM is connected.")
        page.wait_for_load_state("load")
        focused = page.frames[1].evaluate("document.activeElement.id")
        browser.close()

    assert focused == "main"

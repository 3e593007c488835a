"""The status page's script, when its link stops working while the page is open: the JSON it
polls answers 410 with an error object, and the page stops polling and says the link is no
longer valid, instead of leaving a spinner that never ends. And a link that stopped working
before its page was opened, inside the host app's frame. Headless Chromium (as
test_browser.py)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create, connect_link_revoke
from tenants.models import ConnectLink, TenantStatus
from tenants.services import tenant_create
from tests.connect.test_status_page import make_job, set_status
from tests.fixtures.browser import launch, screenshots_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _revoke(link) -> None:
    """In a thread of its own: Playwright's sync API runs an event loop in the test's thread,
    where no ORM call may run (tests/fixtures/browser.py)."""

    def revoke():
        try:
            connect_link_revoke(link=link)
        finally:
            connection.close()

    worker = threading.Thread(target=revoke)
    worker.start()
    worker.join()


def test_the_status_page_says_so_when_its_link_is_revoked(acme, issue_link, live_server):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, done=2)
    issued = issue_link(acme)
    polls = []

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.on("response", lambda r: polls.append(r.status) if "status.json" in r.url else None)
        page.goto(live_server.url + issued.path + "status/")
        expect(page.locator("#progress-steps")).to_be_visible()
        _revoke(issued.link)

        expect(page.locator("#progress-title")).to_have_text("This link is no longer valid")
        expect(page.locator("#progress-detail")).to_contain_text("it gives you a new link")
        expect(page.locator("#progress-steps")).to_be_hidden()
        expect(page.locator(".status-card")).to_have_class("card status-card state-failed")
        assert page.title().startswith("This link is no longer valid")
        # It stopped asking: one answer of 410, and no more polls after it.
        page.wait_for_timeout(5_000)
        browser.close()

    assert polls.count(410) == 1 and polls[-1] == 410


def test_an_expired_link_left_in_the_host_apps_frame_says_to_ask_for_a_new_one(
    template, live_server, host_app
):
    """The host app keeps its integrations page open past the link's time, then reloads it: its
    iframe shows our "expired" page, not the browser's refusal of a framed page."""
    tenant, _ = tenant_create(
        external_id="initech", name="Initech", template=template, allowed_origins=[host_app.origin]
    )
    issued = connect_link_create(tenant=tenant)
    ConnectLink.objects.filter(pk=issued.link.pk).update(expires_at=timezone.now())
    host_app.embed_src = live_server.url.replace("127.0.0.1", "localhost") + issued.path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.set_default_timeout(15_000)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="This link has expired")).to_be_visible()
        expect(frame.get_by_text("new link")).to_be_visible()
        page.screenshot(path=screenshots_dir("connect") / "expired-link-in-frame.png")
        browser.close()

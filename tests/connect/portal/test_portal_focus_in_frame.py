"""After a change, inside the host app's cross-site iframe: the notice that says how it went
is where the person can see it, in the host's window, not only inside the frame."""

import pytest
from playwright.sync_api import sync_playwright

from tenants.models import Tenant
from tests.fixtures.browser import PHONE, in_host_window, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_changes_notice_is_in_sight_in_the_host_apps_window(
    acme, portal_link, live_server, host_app
):
    # The address a change leads back to names its notice (#settings-outcome). A frame taller
    # than the host's window scrolls to its fragment inside itself only (a cross-site frame
    # does not scroll the host's page for it), after portal.js has focused the notice, which
    # had scrolled the host's page to where the notice was before that: the notice ended above
    # the host's window.
    Tenant.objects.filter(pk=acme.pk).update(allowed_origins=[host_app.origin])
    base = live_server.url.replace("127.0.0.1", "localhost")  # another site than the host's
    host_app.embed_src = base + portal_link(acme).path + "?settings=saved#settings-outcome"

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe").locator("#settings-outcome")
        frame.wait_for()
        page.wait_for_timeout(1000)
        focused, top = in_host_window(page, "settings-outcome")
        browser.close()

    assert focused == "settings-outcome"
    assert 0 <= top < PHONE["height"] - 40, top

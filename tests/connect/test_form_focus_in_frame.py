"""A refused submission inside the host app's cross-site iframe, on a phone: the error summary
that says what to fix is where the person can see it, in the host's window, not only inside
the frame."""

import pytest
from playwright.sync_api import sync_playwright

from tenants.models import Tenant
from tests.fixtures.browser import PHONE, in_host_window, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_submissions_summary_is_in_sight_in_the_host_apps_window(
    acme, issue_link, live_server, host_app
):
    # The form posts to an address whose fragment names the error summary (#slot-shop-errors).
    # connect.js focuses the summary, which scrolls the host's page to where it is; the browser
    # then scrolls the frame to the fragment inside itself only (a cross-site frame does not
    # scroll the host's page for it), and the summary ended outside the host's window.
    Tenant.objects.filter(pk=acme.pk).update(allowed_origins=[host_app.origin])
    base = live_server.url.replace("127.0.0.1", "localhost")  # another site than the host's
    host_app.embed_src = base + issue_link(acme).path

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        frame.locator("#slot-shop").scroll_into_view_if_needed()
        frame.locator("#slot-shop button[type=submit]").click()  # nothing typed: refused
        frame.locator("#slot-shop-errors").wait_for()
        page.wait_for_timeout(1000)
        focused, top = in_host_window(page, "slot-shop-errors")
        browser.close()

    assert focused == "slot-shop-errors"
    assert 0 <= top < PHONE["height"] - 40, top

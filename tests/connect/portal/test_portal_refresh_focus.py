"""The integration page looks again every few seconds while a run it shows has not ended
(portal.js). A reload puts focus back at the top of the page: a keyboard user who had tabbed
to a run, a button or a link lost their place every few seconds, and never got further than
the next reload. The page waits while the person's own focus is on a control."""

import pytest
from playwright.sync_api import sync_playwright

from runs.models import RunStatus
from tests.connect.portal.conftest import add_runs
from tests.fixtures.browser import DESKTOP, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = "document.activeElement.tagName + ' ' + document.activeElement.textContent.trim()"


def test_the_refresh_waits_while_a_keyboard_user_is_on_a_link_or_button(
    acme, portal_link, live_server, monkeypatch
):
    monkeypatch.setattr("connect.portal_views.RUN_REFRESH_SECONDS", 1)
    [run] = add_runs(acme, "flow-customers", 1, status=RunStatus.RUNNING)
    url = live_server.url + portal_link(acme).path

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url)
        assert page.get_attribute("[data-portal-refresh]", "data-portal-refresh") == "1"

        # Nobody on the page: it does look again (so the wait below is the focus's doing).
        page.evaluate("window.notReloaded = true")
        page.wait_for_timeout(3500)
        reloaded_alone = page.evaluate("window.notReloaded === undefined")

        # A keyboard user tabs to the running run's link (the last link of Runs and errors)...
        run_link = page.locator(f"#runs a[href*='{run.job_id}']")
        for _ in range(40):
            page.keyboard.press("Tab")
            if run_link.evaluate("link => link === document.activeElement"):
                break
        focused = page.evaluate(FOCUSED)
        page.evaluate("window.notReloaded = true")
        page.wait_for_timeout(3500)
        still = page.evaluate("window.notReloaded === true")
        focused_after = page.evaluate(FOCUSED)

        # ... and a button: the flow's switch.
        page.locator("#flows button").first.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        button = page.evaluate(FOCUSED)
        page.wait_for_timeout(3500)
        button_still = page.evaluate("window.notReloaded === true")
        button_after = page.evaluate(FOCUSED)
        browser.close()

    assert reloaded_alone
    assert focused.startswith("A ") and "Running" in focused, focused
    assert still, "the page reloaded under the keyboard user's focus"
    assert focused_after == focused
    assert button.startswith("BUTTON "), button
    assert button_still and button_after == button

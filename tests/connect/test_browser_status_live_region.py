"""The status page's script asks how the setup goes every few seconds and writes the answer
into the page. Its detail line is a live region (aria-live), which a screen reader reads out
whenever its text nodes are replaced: written anew at every poll, the same sentence ("This
usually takes under a minute ...") was read out again every 2 s for as long as the setup ran.
The page writes only what changed. Headless Chromium (as test_browser.py)."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.models import TenantStatus
from tests.connect.test_status_page import make_job, set_status
from tests.fixtures.browser import launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every change below #progress-detail and the page's title, from the script's start on.
WATCH = """() => {
  window.detailChanges = 0;
  new MutationObserver(records => { window.detailChanges += records.length; })
    .observe(document.getElementById("progress-detail"),
             { childList: true, characterData: true, subtree: true });
  window.titleChanges = 0;
  new MutationObserver(records => { window.titleChanges += records.length; })
    .observe(document.getElementById("progress-title"),
             { childList: true, characterData: true, subtree: true });
}"""


def test_a_poll_that_brings_nothing_new_leaves_the_live_region_alone(acme, issue_link, live_server):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, done=2)
    issued = issue_link(acme)
    polls = []

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.on("response", lambda r: polls.append(r.status) if "status.json" in r.url else None)
        page.goto(live_server.url + issued.path + "status/")
        expect(page.locator("#progress-steps")).to_be_visible()
        page.evaluate(WATCH)
        page.wait_for_timeout(5_000)
        detail_changes = page.evaluate("window.detailChanges")
        title_changes = page.evaluate("window.titleChanges")
        detail = page.locator("#progress-detail").inner_text()
        browser.close()

    assert polls.count(200) >= 2  # it did ask, twice or more, and heard the same
    assert detail
    assert detail_changes == 0, f"the live region was rewritten {detail_changes} times"
    assert title_changes == 0

"""German at a phone's width (375 px): long compound words (a flow's name, a heading, an app's
error message) and a record's key, which has no place to break, wrap inside their boxes
rather than push the page sideways; the page says its language, so that the browser can
hyphenate it. Screenshots go to test-output/portal-wrapping/."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from runs.models import FlowRun, FlowRunError, RunStatus, TenantFlow
from tenants.connect_links import connect_link_create
from tests.connect.portal.overflow import overflowing
from tests.fixtures.browser import PHONE, launch, screenshots_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = ["connections", "settings", "flows", "runs"]
LONG_NAME = "Kundenstammdatensynchronisierungsablaufsteuerungsdatenfluss"
LONG_KEY = "ORD2026112900000000000000000000000000000000000000000000000000000042"
LONG_MESSAGE = (
    "Die Lieferantenrechnungspositionsnummernvergabebestätigungsanforderung wurde abgelehnt."
)

# Every part that holds text that can be long: it stays inside the page and its card.
PARTS = (
    "h1, h2, h3, .eyebrow, .error-message, .record-key, .row-meta, .row-title, .runs-flow, "
    ".guidance p, .notice p"
)

_WRAPPING = """(selector) => {
  const el = document.querySelector(selector);
  const style = getComputedStyle(el);
  return [style.hyphens, style.overflowWrap];
}"""


# How many lines the first text of an element takes.
_LINES = """(selector) => {
  const text = document.querySelector(selector).firstChild;
  const range = document.createRange();
  range.selectNodeContents(text);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
}"""


def test_long_german_words_and_record_keys_wrap_at_a_phones_width(acme, live_server):
    TenantFlow.objects.filter(tenant=acme, flow_id="flow-orders").update(name=LONG_NAME)
    run = FlowRun.objects.get(job_id="flow-orders-job-0")
    FlowRun.objects.filter(pk=run.pk).update(num_error=1, num_success=19)
    FlowRunError.objects.create(
        run=run,
        error_id="e1",
        step_id="step-import",
        retry_data_key="retry-e1",
        code="422",
        message=LONG_MESSAGE,
        trace_key=LONG_KEY,
        synced_at=timezone.now(),
    )
    FlowRun.objects.filter(job_id="flow-orders-job-1").update(status=RunStatus.RUNNING)
    cache.add(f"connect.portal.run-errors:{run.pk}", 1, 60)  # the mirror's errors: no sandbox
    base = live_server.url + connect_link_create(tenant=acme, sections=SECTIONS, locale="de").path
    shots = screenshots_dir("portal-wrapping")
    found, styles = {}, {}

    # No ORM inside this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        # An English browser: the page's language is the link's, and says so.
        page = browser.new_page(viewport=PHONE, device_scale_factor=2, locale="en-US")
        for name, url in (("page", base), ("run", base + "runs/flow-orders-job-0/")):
            page.goto(url)
            expect(page.locator("html")).to_have_attribute("lang", "de")
            page.screenshot(path=shots / f"{name}-de-phone.png", full_page=True)
            found[name] = overflowing(page, PARTS)
            if name == "run":
                expect(page.locator(".record-key")).to_have_text(LONG_KEY)
                # A word that fits is not broken to make room: the status is on one line.
                found["status-lines"] = page.evaluate(_LINES, ".run-facts dd")
                for part in ("h1", "h2", ".eyebrow", ".error-message", ".guidance p"):
                    styles[part] = page.evaluate(_WRAPPING, part)
                # A key breaks anywhere, but gains no hyphen: it is copied into another app.
                styles[".record-key"] = page.evaluate(_WRAPPING, ".record-key")
            else:
                styles[".runs-flow"] = page.evaluate(_WRAPPING, ".runs-flow")
                styles[".row-title"] = page.evaluate(_WRAPPING, "#flows .row-title")
        browser.close()

    assert found == {"page": [], "run": [], "status-lines": 1}, found
    assert styles.pop(".record-key") == ["manual", "anywhere"]
    assert styles == {part: ["auto", "anywhere"] for part in styles}, styles


# The words of an element's first text broken across two lines (a word whole on its line,
# however many lines the text takes, is fine).
_BROKEN_WORDS = """(el) => {
  const text = el.firstChild;
  const broken = [];
  let at = 0;
  for (const word of text.textContent.split(' ')) {
    const range = document.createRange();
    range.setStart(text, at);
    range.setEnd(text, at + word.length);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    if (tops.size > 1) broken.push(word);
    at += word.length + 1;
  }
  return broken;
}"""

# From a large phone to a desktop: wider than the phone above, the run's facts still get
# room enough for a German status and a duration's words.
WIDTHS = (414, 600, 700, 768, 1100)


def test_a_german_status_and_duration_stay_whole_from_phone_to_desktop(acme, live_server):
    run = FlowRun.objects.get(job_id="flow-orders-job-0")
    FlowRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, num_success=0, num_error=1, duration_ms=150_000
    )
    cache.add(f"connect.portal.run-errors:{run.pk}", 1, 60)  # the mirror's errors: no sandbox
    url = (
        live_server.url
        + connect_link_create(tenant=acme, sections=SECTIONS, locale="de").path
        + "runs/flow-orders-job-0/"
    )
    shots = screenshots_dir("portal-wrapping")
    broken, found = {}, {}

    # No ORM inside this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900}, locale="de-DE")
            page.goto(url)
            expect(page.locator(".run-facts dd").first).to_have_text("Fehlgeschlagen")
            page.screenshot(path=shots / f"run-facts-de-{width}.png", full_page=True)
            facts = page.locator(".run-facts dd")
            broken[width] = [facts.nth(index).evaluate(_BROKEN_WORDS) for index in (0, 3)]
            found[width] = overflowing(page, ".run-facts div")
            page.close()
        browser.close()

    # "Fehlgeschlagen", and each word of "2 Minuten 30 Sekunden", whole on its line.
    assert broken == {width: [[], []] for width in WIDTHS}, broken
    assert found == {width: [] for width in WIDTHS}, found

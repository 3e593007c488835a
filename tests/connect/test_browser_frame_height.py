"""Inside the host app's iframe, every connect page tells the host page its height, so that the
host can make its iframe exactly as tall as the page: no scrollbar inside the frame, no empty
band below the form, also as the page grows (an error shown) or shrinks."""

import pytest
from playwright.sync_api import sync_playwright

from tenants.models import Tenant
from tests.fixtures.browser import DESKTOP, PHONE, launch, screenshots_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fitted(page) -> dict:
    """The host's iframe and the framed page's own height, once the host has fitted it."""
    page.wait_for_function("window.heights && window.heights.length > 0")
    page.wait_for_timeout(300)
    frame = page.frames[1]
    return {
        "told": page.evaluate("window.heights.slice()"),
        "iframe": page.evaluate("document.querySelector('iframe').getBoundingClientRect().height"),
        "content": frame.evaluate("document.documentElement.getBoundingClientRect().height"),
        "scrolls": frame.evaluate("document.documentElement.scrollHeight > window.innerHeight + 1"),
    }


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_host_fits_its_iframe_to_the_form_as_it_grows(
    acme, issue_link, live_server, host_app, viewport
):
    Tenant.objects.filter(pk=acme.pk).update(allowed_origins=[host_app.origin])
    service = live_server.url.replace("127.0.0.1", "localhost")  # another site than the host's
    host_app.embed_src = service + issue_link(acme).path
    host_app.fit_from_origin = service

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=viewport)
        page.goto(f"{host_app.origin}/integrations")
        before = _fitted(page)
        frame = page.frame_locator("iframe")
        frame.locator("#slot-shop button[type=submit]").click()  # nothing typed: refused
        frame.locator("#slot-shop-errors").wait_for()
        page.wait_for_function(f"window.heights.length > {len(before['told'])}")
        after = _fitted(page)
        # The whole host page in the window: a full-page screenshot leaves a cross-site
        # frame's part below the window blank.
        tall = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": tall})
        page.wait_for_timeout(300)
        shots = screenshots_dir("frame-height")
        page.screenshot(path=shots / f"refused-{viewport['width']}.png")
        browser.close()

    # The iframe started at 1000 px; it now is the page's height, whatever that is.
    for fitted in (before, after):
        assert abs(fitted["iframe"] - fitted["content"]) <= 1, fitted
        assert not fitted["scrolls"], fitted
    assert before["iframe"] != 1000
    assert after["content"] > before["content"]  # the errors made the page taller

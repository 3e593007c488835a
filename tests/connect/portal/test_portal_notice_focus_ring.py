"""A notice that says a change did not go through (a "Check again" too soon, a connection that
still fails, a change refused) takes focus when the page loads (portal.js), so that it is read
out and seen. Its focus ring was a 3 px shadow in the notice's own pale border colour
(#fecdca on the white card: 1.4:1), where the other notices and the error summary draw a
plain one: a sighted keyboard user could not tell where focus was. Its ring reads at 3:1 at
least against the card, in the light and the dark scheme."""

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.fixtures.browser import DESKTOP, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The ring's colour (an outline, else the first shadow) and the card's background behind it.
RING = """notice => {
  const s = getComputedStyle(notice);
  const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2
    ? s.outlineColor : (s.boxShadow.match(/rgba?\\([^)]*\\)/) || ["rgba(0, 0, 0, 0)"])[0];
  return [ring, getComputedStyle(notice.closest(".card")).backgroundColor];
}"""


def _contrast(first: str, second: str) -> float:
    def luminance(css: str) -> float:
        red, green, blue = (
            float(part) / 255 for part in css.split("(")[1].rstrip(")").split(",")[:3]
        )
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_focused_danger_notice_has_a_ring_one_can_see(acme, portal_link, live_server, scheme):
    until = int(time.time()) + 20
    url = (
        live_server.url
        + portal_link(acme).path
        + f"?checked=too-soon&until={until}#connections-outcome"
    )

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=DESKTOP, color_scheme=scheme)
        page.goto(url)
        notice = page.locator("#connections-outcome")
        expect(notice).to_be_focused()
        expect(notice).to_have_class("notice notice-danger")
        ring, card = notice.evaluate(RING)
        browser.close()

    assert not ring.startswith("rgba(0, 0, 0, 0)"), ring
    assert _contrast(ring, card) >= 3, (ring, card, _contrast(ring, card))

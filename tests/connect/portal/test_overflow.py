"""The portal's layout tests ask `overflowing` (tests/connect/portal/overflow.py) whether a part
is wider than it may be: it must see each way a part can be, or those tests pass for nothing."""

import pytest
from playwright.sync_api import sync_playwright

from tests.connect.portal.overflow import overflowing
from tests.fixtures.browser import PHONE, launch

pytestmark = pytest.mark.browser

WORD = "Kundenstammdatensynchronisierungsablaufsteuerungsdatenfluss"
PAGE = f"""<!doctype html><html><body style="margin:0">
<div class="card" style="width:200px; padding:0 20px">
  <p class="fits">Kurz</p>
  <span class="button" style="display:block; width:60px; overflow:hidden">{WORD}</span>
  <p class="wide" style="width:230px">Breit</p>
</div>
<p class="page-wide" style="width:{PHONE["width"] + 100}px">Seite</p>
</body></html>"""


def test_it_names_the_page_a_cut_part_and_a_part_past_its_card():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=PHONE)
        page.set_content(PAGE)
        fitting = overflowing(page, ".fits")
        cut = overflowing(page, ".button")
        past_the_card = overflowing(page, ".wide")
        page.set_content(PAGE.replace('class="page-wide" style="width', 'style="max-width'))
        nothing = overflowing(page, ".fits")
        browser.close()

    page_wide = f"page {PHONE['width'] + 100}>{PHONE['width']}"
    assert fitting == [page_wide]
    assert cut == [page_wide, f"{WORD[:40]} (cut)"]
    assert past_the_card == [page_wide, "Breit (past the edge)"]
    assert nothing == []

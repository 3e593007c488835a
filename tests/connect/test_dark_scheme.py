"""The dark scheme keeps the host app's accent readable, whatever colour the host picks."""

import re

from hypothesis import given
from hypothesis import strategies as st

from connect.branding import DARK_BG, DARK_SURFACE, _rgb, brand_for, contrast_ratio
from tests.fixtures.browser import REPO_ROOT

COLOURS = st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)


@given(accent=COLOURS)
def test_the_accent_reads_on_every_dark_background(accent):
    brand = brand_for(template=type("T", (), {"branding": {"accent_color": accent}})())
    ink, soft = _rgb(brand.accent_ink_dark), _rgb(brand.accent_soft_dark)

    for background in (DARK_BG, DARK_SURFACE, soft):
        assert contrast_ratio(ink, background) >= 4.5, (accent, brand)


def test_the_page_hands_the_dark_variants_to_the_stylesheet(acme, issue_link, client, settings):
    settings.CONNECT_ACCENT_COLOR = "#0e7490"
    brand = brand_for()

    html = client.get(issue_link(acme).path).content.decode()

    assert f"--accent-ink-dark:{brand.accent_ink_dark}" in html
    assert f"--accent-soft-dark:{brand.accent_soft_dark}" in html


def test_the_stylesheets_dark_backgrounds_are_the_ones_the_accent_is_measured_against():
    css = (REPO_ROOT / "static" / "connect" / "connect.css").read_text()
    dark = css[css.index("@media (prefers-color-scheme: dark)") :]

    assert re.search(r"--bg: #0f1217;", dark) and _rgb("#0f1217") == DARK_BG
    assert re.search(r"--surface: #181c23;", dark) and _rgb("#181c23") == DARK_SURFACE


def test_the_portal_stylesheet_takes_every_colour_from_connect_css():
    """portal.css names no colour of its own, so connect.css's dark scheme covers it too."""
    css = (REPO_ROOT / "static" / "connect" / "portal.css").read_text()
    without_comments = re.sub(r"/\*.*?\*/", "", css, flags=re.S)

    literals = re.findall(
        r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(|:\s*(?:white|black)\b", without_comments
    )

    assert literals == []

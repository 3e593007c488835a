"""The look a host app gives the credential forms: product name, logo and accent colour.

Settings (`CONNECT_*`, validated at start-up) are the defaults. A template may override them
with an optional `branding` object (`product_name`, `logo_url`, `accent_color`); values that do
not pass the same checks are ignored rather than rendered, because they end up in CSS and in
the Content-Security-Policy.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_LOGO_URL = re.compile(r"(?:https?://|/)[^\s\"'<>;]+")
# The dark scheme's page and card backgrounds (--bg, --surface in connect.css).
DARK_BG = (0x0F, 0x12, 0x17)
DARK_SURFACE = (0x18, 0x1C, 0x23)


@dataclass(frozen=True)
class Brand:
    product_name: str
    logo_url: str
    accent: str
    accent_strong: str
    accent_soft: str
    # The accent, darkened as far as needed to read on white (4.5:1): links, input borders
    # and focus rings, whatever colour a host app picks.
    accent_ink: str
    on_accent: str
    # The same for the dark scheme (connect.css): a dim tint of the accent for soft
    # backgrounds, and the accent lightened until it reads on the dark surfaces and that tint.
    accent_soft_dark: str = ""
    accent_ink_dark: str = ""

    @property
    def logo_origin(self) -> str | None:
        """The origin the logo loads from, for the CSP `img-src` (None when it is ours)."""
        parts = urlsplit(self.logo_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
        return None


def brand_for(*, template=None) -> Brand:
    overrides = getattr(template, "branding", None) or {}
    if not isinstance(overrides, dict):
        overrides = {}
    name = str(overrides.get("product_name") or "").strip()[:80] or settings.CONNECT_PRODUCT_NAME
    logo = str(overrides.get("logo_url") or "")
    if not _LOGO_URL.fullmatch(logo):
        logo = settings.CONNECT_LOGO_URL
    accent = str(overrides.get("accent_color") or "")
    if not _HEX_COLOUR.fullmatch(accent):
        accent = settings.CONNECT_ACCENT_COLOR
    rgb = _rgb(accent)
    soft_dark = _mix(rgb, DARK_SURFACE, 0.78)
    return Brand(
        product_name=name,
        logo_url=logo,
        accent=_hex(rgb),
        accent_strong=_hex(_mix(rgb, (0, 0, 0), 0.18)),
        accent_soft=_hex(_mix(rgb, (255, 255, 255), 0.9)),
        accent_ink=_hex(_readable_on_white(_mix(rgb, (0, 0, 0), 0.18))),
        # Text on accent-coloured buttons must stay readable whatever colour a host app picks.
        on_accent="#ffffff" if contrast_ratio(rgb, (255, 255, 255)) >= 4.5 else "#111827",
        accent_soft_dark=_hex(soft_dark),
        accent_ink_dark=_hex(
            _readable_on_dark(rgb, backgrounds=(DARK_SURFACE, DARK_BG, soft_dark))
        ),
    )


def _rgb(colour: str) -> tuple[int, int, int]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _mix(rgb, other, amount: float) -> tuple[int, int, int]:
    return tuple(round(c + (o - c) * amount) for c, o in zip(rgb, other, strict=True))


def _readable_on_white(rgb) -> tuple[int, int, int]:
    amount = 0.0
    while contrast_ratio(_mix(rgb, (0, 0, 0), amount), (255, 255, 255)) < 4.5:
        amount += 0.05
    return _mix(rgb, (0, 0, 0), amount)


def _readable_on_dark(rgb, *, backgrounds) -> tuple[int, int, int]:
    amount = 0.0
    while amount < 1 and any(
        contrast_ratio(_mix(rgb, (255, 255, 255), amount), bg) < 4.5 for bg in backgrounds
    ):
        amount += 0.05
    return _mix(rgb, (255, 255, 255), min(amount, 1.0))


def _luminance(rgb) -> float:
    # WCAG 2 relative luminance.
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a, b) -> float:
    """WCAG 2 contrast ratio of two RGB colours, from 1 to 21."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)

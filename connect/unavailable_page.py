"""The page a credential form answers while the database cannot be reached (see
core.unavailable)."""

from django.shortcuts import render

from connect.branding import brand_for
from core.unavailable import unavailable_mark


def unavailable_page(
    request, *, brand=None, nonce: str = "", status: int = 503, frame_origins: list[str] = ()
):
    """A page in the credential forms' look (their branding, or the service's default);
    `frame_origins`: the pages that may frame it, told its height."""
    context = {"brand": brand or brand_for(), "nonce": nonce, "frame_origins": frame_origins}
    return unavailable_mark(render(request, "unavailable.html", context, status=status))

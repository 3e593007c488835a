"""The page a credential form answers while the database cannot be reached (see
core.unavailable)."""

from django.shortcuts import render

from connect.branding import brand_for
from core.unavailable import unavailable_mark


def unavailable_page(request, *, brand=None, nonce: str = "", status: int = 503):
    """A page in the credential forms' look (their branding, or the service's default)."""
    context = {"brand": brand or brand_for(), "nonce": nonce}
    return unavailable_mark(render(request, "unavailable.html", context, status=status))

"""What a link that does not open answers: a page, or for the JSON the status page polls, a
small error object with the same status.

Told apart only as far as the signature proves (tenants/connect_links.py): a token we never
signed gets 404 ("check the link"); a link we signed that stopped working gets 410, worded by
why: "expired" when it ran out of time, "no longer valid" when it was revoked, its tenant is
gone or it is no longer on record (saying "expired" of a revoked link would not be true).
Neither answer names the tenant. A token we never signed names no tenant, so its page may not
be framed. A link we signed names its tenant, whose host page most likely embedded it (a link
left open in the host app past its time): its page may be framed by that tenant's allowed
origins, as its live pages are, so that the customer reads "ask for a new link" in place of
the browser's refusal to show a framed page. The page shows nothing of the tenant.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from connect.branding import brand_for
from connect.embedding import embedding_headers
from connect.language import language_activate
from tenants.errors import ConnectLinkExpired, ConnectLinkInvalid

INVALID, EXPIRED, NO_LONGER_VALID = "invalid_link", "expired_link", "link_no_longer_valid"


def dead_link_kind(error: ConnectLinkInvalid) -> str:
    if not isinstance(error, ConnectLinkExpired):
        return INVALID
    return EXPIRED if error.expired else NO_LONGER_VALID


def dead_link_answer(
    request, error: ConnectLinkInvalid, *, nonce: str, as_json: bool = False
) -> HttpResponse:
    kind = dead_link_kind(error)
    if isinstance(error, ConnectLinkExpired):
        # The link is still known: its own language, as on its live pages.
        language_activate(request, error.locale)
    brand = brand_for()
    framing = error.frame_origins if isinstance(error, ConnectLinkExpired) and not as_json else []
    if as_json:
        response = JsonResponse({"error": _json_error(kind)}, status=error.http_status)
    else:
        template = "connect/link_invalid.html" if kind == INVALID else "connect/link_expired.html"
        response = render(
            request,
            template,
            {
                "page": None,
                "brand": brand,
                "nonce": nonce,
                "expired": kind == EXPIRED,
                "frame_origins": framing,
            },
            status=error.http_status,
        )
    return embedding_headers(response, frame_origins=framing, brand=brand, nonce=nonce)


def _json_error(kind: str) -> dict:
    """The page's own words for the script to show in place of the steps."""
    if kind == INVALID:
        title = _("This link does not work")
        message = _(
            "Check the link you followed: if you copied it, copy all of it. Or go back to the "
            "app you came from and open its integrations page again, to get a link that works."
        )
    else:
        title = _("This link has expired") if kind == EXPIRED else _("This link is no longer valid")
        message = _(
            "Go back to the app you came from and open its integrations page again: it gives "
            "you a new link."
        )
    return {"code": kind, "title": title, "message": message}

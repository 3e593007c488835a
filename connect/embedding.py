"""What lets the credential forms live inside a host app's iframe, and nowhere else.

Framing: `Content-Security-Policy: frame-ancestors` lists the tenant's allowed origins, or
`'none'` when it has none (and for pages that belong to no tenant). Where a tenant allows
framing, no `X-Frame-Options` is sent: browsers that know CSP ignore it anyway, and older ones
would block the allowed embed with it.

Posting: inside a cross-site iframe, browsers drop `SameSite=Lax` cookies, so Django's cookie
based CSRF check cannot work there. The forms therefore carry a token bound to the link
(`connect.form_tokens`) and the `Origin` of a POST must be this service itself (the page we
served posts to us) or one of the tenant's allowed origins.
"""

import logging
import re
import secrets
from urllib.parse import urlsplit

from connect.branding import Brand
from tenants.services.tenants import host_ascii

logger = logging.getLogger(__name__)

# Only plain origins reach a header: anything else could smuggle in another CSP directive.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?")


def origin_of(url: str) -> str | None:
    """`https://app.example.com` for `https://app.example.com/path?q`; None if not http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if port == 0:
        return None  # no page is served from it: not the default port's origin either
    default_port = 443 if parts.scheme == "https" else 80
    host = host_ascii(parts.hostname)
    if host is None:
        return None
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")
    return origin if _ORIGIN.fullmatch(origin) else None


def tenant_origins(tenant) -> list[str]:
    """The tenant's allowed origins, normalised; entries that are not origins are dropped."""
    origins = []
    for value in tenant.allowed_origins or []:
        origin = origin_of(str(value))
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def return_url_allowed(*, url: str, tenant) -> bool:
    """Checked again at render time: the tenant's origins may have changed since the link."""
    origin = origin_of(url) if url else None
    return origin is not None and origin in tenant_origins(tenant)


def post_origin_allowed(request, *, tenant) -> bool:
    """Whether a POST comes from our own page (or a page of the tenant's allowed origins).

    Our pages send `Referrer-Policy: no-referrer`, and under that policy browsers send
    `Origin: null` even for a same-origin form post. `Sec-Fetch-Site` is not affected by the
    policy, so for a `null` (or missing) Origin it decides. Requests with neither header come
    from old browsers or non-browser clients; the form token still has to match for them.
    """
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        own = f"{request.scheme}://{request.get_host()}"
        allowed = origin == own or origin in tenant_origins(tenant)
        if not allowed:
            logger.warning(
                "connect post from %r refused: neither this service nor an allowed origin of "
                "the tenant",
                origin[:200],
            )
        return allowed
    fetch_site = request.headers.get("Sec-Fetch-Site")
    allowed = fetch_site is None or fetch_site == "same-origin"
    if not allowed:
        # What the host app's developer needs to hear: the usual cause is theirs to fix.
        logger.warning(
            "connect post refused: Origin %s and Sec-Fetch-Site %r, as a page in an iframe "
            "sandboxed without allow-same-origin posts (connect/README.md, Embedding)",
            "null" if origin else "missing",
            fetch_site[:40],
        )
    return allowed


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def embedding_headers(response, *, frame_origins: list[str], brand: Brand | None, nonce: str):
    """Set the headers every connect response carries; `frame_origins` empty means no framing."""
    images = ["'self'", "data:"]
    if brand and brand.logo_origin:
        images.append(brand.logo_origin)
    ancestors = " ".join(frame_origins) if frame_origins else "'none'"
    response["Content-Security-Policy"] = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )
    # The form opens an OAuth app's consent page in a popup and learns the outcome from it by
    # postMessage. Django's default `same-origin` would cut the popup off from the form as
    # soon as it went to the app's origin (when the form is the top page; in an iframe the
    # host page's own policy applies); `same-origin-allow-popups` keeps the popup ours. The
    # popup's own pages say `unsafe-none` (connect.oauth_views), which stands.
    response.setdefault("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
    # The link token is in the URL: no page we link to may learn it.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    if not frame_origins:
        # The views are `xframe_options_exempt` so that an allowed embed is not blocked by the
        # middleware's DENY; where nothing may frame the page, say so to older browsers too.
        response["X-Frame-Options"] = "DENY"
    return response

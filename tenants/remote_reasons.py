"""Why an app refused a set of credentials, in words an end user can act on.

integrator.io's ping reports the target's answer in its own terms ("401 Unauthorized: {...}",
"connect ECONNREFUSED host:port", "Timed out after 10s ..."). The form shows a plain sentence
first and the remote's text below it as detail, because support staff need the detail and
users need the sentence.
"""

import json
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.redaction import redact_text, secrets_mask

MAX_DETAIL_LENGTH = 300
MASK = "••••••"

_RULES: list[tuple[re.Pattern, object]] = [
    (
        # An OAuth 2 slot whose refresh the app refused (RFC 6749's `invalid_grant`): the
        # person's consent was withdrawn at the app, or ran out. They typed nothing, so
        # "these credentials" would mislead them; a new consent is the one thing that helps.
        re.compile(r"\binvalid_grant\b", re.I),
        _(
            "{app} no longer gives us access: the access you approved was removed or has "
            "expired. Connect {app} again to restore it."
        ),
    ),
    (
        re.compile(
            r"^\s*(401|403)\b|unauthori[sz]ed|forbidden|invalid .*(key|token|password)", re.I
        ),
        _(
            "{app} did not accept these credentials. Check that you copied the whole key, "
            "and that it has not been revoked."
        ),
    ),
    (
        re.compile(r"^\s*404\b", re.I),
        _("{app} was reached, but not at this address. Check the URL."),
    ),
    (
        # TLS spoken to a server that answers plain HTTP: OpenSSL's "wrong version number"
        # (Node's EPROTO carries the same text). The form assumes https:// for an address
        # typed without a scheme, so this is usually an http:// address typed without it;
        # the SSL library's words would not tell the user that.
        re.compile(r"wrong[ _]version[ _]number|packet length too long|\bEPROTO\b", re.I),
        _(
            "{app} does not answer over https at this address. If the address starts with "
            "http://, enter it with http://."
        ),
    ),
    (
        re.compile(r"ENOTFOUND|ECONNREFUSED|could not connect|connection to .* failed", re.I),
        _("We could not reach {app} at this address. Check the URL, and that the app is online."),
    ),
    (
        re.compile(r"timed out|timeout", re.I),
        _("{app} did not answer in time. Please try again in a moment."),
    ),
    (
        # A 5xx status, with its number or as its reason phrase alone (some apps and proxies
        # answer "Service Unavailable" with no number): either way the app is the one
        # failing, so sending the user to fix their credentials would be wrong.
        re.compile(
            r"^\s*(5\d\d\b|internal server error|bad gateway|service unavailable"
            r"|gateway time-?out)",
            re.I,
        ),
        _("{app} had a problem answering. Please try again in a moment."),
    ),
]
_FALLBACK = _("{app} did not accept these details.")

# Our own words about a connection (not the app's answer), which name integrator.io and are
# never shown as detail: a sentence of their own where the fallback would mislead.
_OWN_RULES: list[tuple[re.Pattern, object]] = [
    (
        # The connection check found the connection deleted in integrator.io
        # (runs.checks.MISSING_CONNECTION_MESSAGE): the app refused nothing, and the customer
        # typed nothing; connecting the app again makes a new connection.
        re.compile(r"connection no longer exists", re.I),
        _("The connection to {app} no longer exists. Connect {app} again to restore it."),
    ),
]


# A failure on the way to the app (name lookup, refused or reset connection, TLS, no answer):
# its text is the network's or integrator.io's, not the app's, so the page must not credit
# the app with it.
_NOT_REACHED = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH"
    r"|could not connect|cannot connect|connection to .* failed|timed out|timeout"
    r"|\bssl\b|\btls\b|certificate",
    re.I,
)


@dataclass(frozen=True)
class RemoteReason:
    summary: str
    detail: str
    # False when the app was never reached: the detail is then labelled as technical
    # details, not as the app's words (templates/connect/_remote_detail.html).
    app_reached: bool = True


def remote_reason(*, message: str, app: str, secrets: list[str]) -> RemoteReason:
    """A plain summary and the remote's own text, with any submitted secret masked out.

    A target app may echo what it was sent in its error body; that text is about to be
    rendered into a page, so the user's secrets are removed from it first.
    """
    detail = _readable_detail(message or "")
    own = ""
    if "integrator.io" in detail:
        # Our own fallback wording, not the app's: it names a platform end users never see.
        own = next((text for pattern, text in _OWN_RULES if pattern.search(detail)), "")
        detail = ""
    # As typed, or encoded as the app repeated it (in a URL, a JSON string), or in part.
    detail = secrets_mask(detail, secrets, mask=MASK)
    # A stored message (shown again later) is no longer next to what was typed; the log
    # redaction rules at least catch what looks like a credential.
    detail = redact_text(detail)
    if len(detail) > MAX_DETAIL_LENGTH:
        detail = detail[: MAX_DETAIL_LENGTH - 1] + "…"
    summary = own or next((text for pattern, text in _RULES if pattern.search(detail)), _FALLBACK)
    # Lazy texts: in the language of the page that shows them (connect.language).
    return RemoteReason(
        summary=str(summary).format(app=app),
        detail=detail,
        app_reached=not _NOT_REACHED.search(detail),
    )


_STATUS_AND_JSON = re.compile(r"^(\d{3}[^:{]*):\s*(\{.*\})\s*$", re.S)
_MESSAGE_KEYS = ("message", "error_description", "detail", "error", "title")


def _readable_detail(message: str) -> str:
    """`401 Unauthorized: {"error": "x", "message": "Bad key."}` -> `401 Unauthorized: Bad key.`"""
    match = _STATUS_AND_JSON.match(message)
    if not match:
        return message
    try:
        body = json.loads(match.group(2))
    except ValueError:
        return message
    text = next(
        (body[k] for k in _MESSAGE_KEYS if isinstance(body, dict) and isinstance(body.get(k), str)),
        None,
    )
    return f"{match.group(1)}: {text}" if text else message

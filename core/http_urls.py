"""The one check of an http(s) URL the service calls or sends people to: a webhook endpoint's
URL, a connect link's return_url and an integrator.io account's API URL override, whether typed
in the admin, sent to the API or given to `manage.py integrator_account`.

`HTTP_URL_PATTERN` is exactly what is accepted, and the API's document carries it, so that a
client can check a URL before sending it (Django's URLValidator takes another set, which no
client could check against). It is kept simple on purpose (no IP literals, no user info), which
also keeps generating values for it cheap. The host is dot-separated labels of 1 to 63
characters that neither start nor end with a hyphen (a trailing dot allowed), the port 1 to
65535: a URL outside them can never be reached (the HTTP client that calls it cannot even parse
some), and a webhook sent there would only be retried until dead-lettered.

`http_url_problem` says what is wrong in words; the API's field (api.serializers.HttpUrlField),
the admin's form and the webhook delivery (a URL stored before the check was this strict) use
it, so each says the same.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
HTTP_URL_PATTERN = (
    rf"^https?://{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?(?::{_PORT})?"
    r"(?:[/?#][A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*)?$"
)
HTTP_URL_MAX_LENGTH = 2000

# \Z rather than the pattern's $, which Python also matches before a final newline.
_HTTP_URL_RE = re.compile(HTTP_URL_PATTERN.removesuffix("$") + r"\Z")


def http_url_problem(value: str) -> str | None:
    """None if `value` is an http(s) URL HTTP_URL_PATTERN matches; else what is wrong, in
    words, naming what the pattern leaves out on purpose (user info, an IP literal) and why a
    host or port cannot be used, so that whoever typed it can fix it."""
    if _HTTP_URL_RE.match(value):
        return None
    scheme, separator, rest = value.partition("://")
    if separator and scheme in ("http", "https"):
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "@" in authority:
            return (
                "Enter the URL without a user name or password (`user:password@`): they would "
                "be kept and shown in clear."
            )
        if authority.startswith("["):
            return "Enter a host name or an IPv4 address: an IPv6 address in brackets is not taken."
        port = re.fullmatch(r"[^:]*:([0-9]+)", authority)
        if port and not 1 <= int(port[1]) <= 65535:
            return f"Enter a port from 1 to 65535 (not {int(port[1])}), or none."
        labels = authority.partition(":")[0].removesuffix(".").split(".")
        if any(not 1 <= len(label) <= 63 for label in labels):
            return "Enter a host name whose parts between dots are 1 to 63 characters each."
        if any(label.startswith("-") or label.endswith("-") for label in labels):
            return "Enter a host name whose parts between dots neither start nor end with a hyphen."
    return "Enter an absolute http or https URL."


def http_url_validate(value: str) -> None:
    """A Django validator (forms, and DRF fields, which take Django's ValidationError): raises
    ValidationError with `http_url_problem`'s words."""
    problem = http_url_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid_url")

"""Removing credentials from text and structured values, before anything is logged or shown:
the one set of rules every log handler (config.structured_logging) and every place that shows a
remote's message uses."""

import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[REDACTED]"

# Names whose values are secrets wherever they appear: dict keys, JSON fields, query strings,
# keyword arguments. Matching is by substring and case-insensitive ("bearerToken",
# "INTEGRATOR_API_TOKEN", "client_secret", "X-Api-Key" all match).
_SENSITIVE_NAME = (
    r"(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|authorization|"
    r"credential|private[_-]?key|signature|cookie|session[_-]?id)"
)
_SENSITIVE_NAME_RE = re.compile(_SENSITIVE_NAME, re.IGNORECASE)
# ...except a moment about a secret, which is no secret: "secret_rotated_at", "token_expires_at"
# (a timestamp says when, never what).
_MOMENT_NAME_RE = re.compile(r"_at$", re.IGNORECASE)

_PATTERNS = [
    # Credential-form links carry their bearer token in the path (/connect/<token>/), and
    # Django logs the path of every 4xx answer. Only where /connect/ is the path's first
    # segment: at the start of a line, after a space, quote or `=`, or right after a URL's
    # host. /static/connect/connect.css is a file name, not a token.
    (
        re.compile(r"""((?:^|[\s"'(<=,;]|//[^/\s"'?#]+)/connect/)[^/\s?#"']+""", re.MULTILINE),
        rf"\1{REDACTED}",
    ),
    # An OAuth 2 callback's authorisation code and state (/connect/oauth/callback?code=…&state=…):
    # named exactly, as query parameters, since "code" alone is no secret elsewhere.
    (re.compile(r"([?&](?:code|state)=)[^&\s\"'#]+"), rf"\1{REDACTED}"),
    # "Bearer abc", "Api-Key abc.def", "Basic dXNlcjpwdw==" anywhere in text.
    (
        re.compile(r"\b(Bearer|Api-Key|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE),
        rf"\1 {REDACTED}",
    ),
    # Quoted values after a sensitive key: 'password': 'x', "token": "x", password="x".
    (
        re.compile(
            rf"""(["']?[\w.-]*{_SENSITIVE_NAME}[\w.-]*["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2""",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}\2",
    ),
    # Unquoted values after a sensitive key: password=x, ?token=x&, Authorization: x.
    (
        re.compile(
            rf"""(["']?[\w.-]*{_SENSITIVE_NAME}[\w.-]*["']?\s*[:=]\s*)(?!["'\[{{]|{re.escape(REDACTED)})[^\s,&;}}\])'"]+""",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
]


def redact_text(text: str) -> str:
    """Return ``text`` with every credential-looking value replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def name_is_sensitive(name: str) -> bool:
    """Whether a field or key of this name holds a secret."""
    return bool(_SENSITIVE_NAME_RE.search(name)) and not _MOMENT_NAME_RE.search(name)


def redact_value(value, *, key: str | None = None):
    """Redact a structured value: secrets by key name, then any secret inside strings."""
    if key is not None and name_is_sensitive(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


# A path segment that looks like a random credential: 16 or more URL-safe characters with
# letters and digits (Slack's /services/T…/B…/<secret>, Discord's /api/webhooks/<id>/<token>).
_TOKEN_SEGMENT_RE = re.compile(r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{16,}")


def redact_url(url: str) -> str:
    """A URL as it may be shown to people (the audit log, the admin): redact_text's rules, plus
    a password in its authority and path segments that look like credentials, since incoming
    webhooks often carry their secret in the path. Only for values known to be URLs: in log
    text the same rule would hide every id."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL after all (a bad IPv6 host): text rules only
        return redact_text(url)
    netloc = parts.netloc
    if parts.password:
        netloc = f"{netloc.rpartition('@')[0].partition(':')[0]}:{REDACTED}@{parts.hostname}"
        netloc += f":{parts.port}" if parts.port else ""
    path = "/".join(
        REDACTED if _TOKEN_SEGMENT_RE.fullmatch(segment) else segment
        for segment in parts.path.split("/")
    )
    return redact_text(urlunsplit(parts._replace(netloc=netloc, path=path)))

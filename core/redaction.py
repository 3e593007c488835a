"""Removing credentials from text and structured values, before anything is logged or shown:
the one set of rules every log handler (config.structured_logging) and every place that shows a
remote's message uses."""

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

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

# Where a key's name may start: not inside a word, and not right after a "/" (a path's
# segment names an endpoint, such as integrator.io's /v1/tokenInfo, and its value is none).
_NOT_A_PATH_SEGMENT = r"(?<![\w./-])"

_PATTERNS = [
    # Credential-form links carry their bearer token in the path (/connect/<token>/), and
    # Django logs the path of every 4xx answer. Only where /connect/ is the path's first
    # segment: at the start of a line, after a space, quote or `=`, or right after a URL's
    # host. /static/connect/connect.css is a file name, not a token, and /connect/oauth/callback
    # is the service's one fixed path there (its code and state are masked below).
    (
        re.compile(
            r"""((?:^|[\s"'(<=,;]|//[^/\s"'?#]+)/connect/)(?!oauth/callback\b)[^/\s?#"']+""",
            re.MULTILINE,
        ),
        rf"\1{REDACTED}",
    ),
    # An OAuth 2 callback's authorisation code and state (/connect/oauth/callback?code=…&state=…):
    # named exactly, as query parameters, since "code" alone is no secret elsewhere.
    (re.compile(r"([?&](?:code|state)=)[^&\s\"'#]+"), rf"\1{REDACTED}"),
    # "Bearer abc", "Api-Key abc.def" anywhere in text, whatever the value looks like (a
    # bearer token may be any word) -- except the words prose puts after the scheme's name,
    # which no credential is: "the bearer token is missing" (integrator.io's own message),
    # "Bearer authentication", "the Api-Key header". Only the whole word, ended by a space or
    # punctuation: "Bearer tokenize" and "Bearer token-abc123" are masked, and in "bearer
    # token abc123" the Token rule below masks what follows.
    (
        re.compile(
            r"\b(Bearer|Api-Key)\s+"
            r"(?!(?:tokens?|auth|authentication|authorization|headers?|scheme|schemes|"
            r"credentials?|realm|value|format|string|type|prefix|required|missing|expected|"
            r"invalid|must|should|will|were|when|with|from|only)"
            r"(?=$|[\s,;:!?)\"']|\.(?![A-Za-z0-9._~+/=-])))"
            r"[A-Za-z0-9._~+/=-]{4,}",
            re.IGNORECASE,
        ),
        rf"\1 {REDACTED}",
    ),
    # "Basic dXNlcjpwdw==", "Token 9944b09199c6", and an app's answer naming what it refused
    # ("API key sk_live_… is invalid", "the password hunter2… was refused"): these are also
    # plain words, so what follows must look like a credential (a digit, a symbol inside it,
    # base64's padding, a capital after a small letter, or 16 letters and more): "the access
    # token failed.", "The API key is invalid" and "Basic authentication" stay readable. A
    # header is caught whatever its value by the "Authorization: …" rules below.
    (
        re.compile(
            r"\b((?i:Basic|Token|API[ _-]?key|password|secret))\s+"
            r"(?=[\w.~+/=-]*\d|[\w.~+/=-]*[._~+/=-][A-Za-z0-9]|[A-Za-z0-9+/]+={1,2}"
            r"|[A-Za-z]*[a-z][A-Z]|[A-Za-z]{16})"
            r"[A-Za-z0-9._~+/=-]{4,}"
        ),
        rf"\1 {REDACTED}",
    ),
    # An Authorization header written out with its scheme ("Authorization: Token abc",
    # "Proxy-Authorization: Negotiate abc"): the credential follows the scheme, so the rule for
    # unquoted values below, which masks the first word only, would leave it.
    (
        re.compile(
            rf"""(\b[\w-]*authorization["']?\s*[:=]\s*[A-Za-z][\w-]*\s+)(?!{re.escape(REDACTED)})[^\s,&;}}\])'"]+""",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    # Quoted values after a sensitive key: 'password': 'x', "token": "x", password="x".
    # A key is not the last segment of a path: in "GET /v1/tokenInfo: integrator.io has been
    # failing" (an error about integrator.io's endpoint) the words after it are no secret.
    (
        re.compile(
            rf"""{_NOT_A_PATH_SEGMENT}(["']?[\w.-]*{_SENSITIVE_NAME}[\w.-]*["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2""",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}\2",
    ),
    # Unquoted values after a sensitive key: password=x, ?token=x&, Authorization: x (not a
    # path's last segment either).
    (
        re.compile(
            rf"""{_NOT_A_PATH_SEGMENT}(["']?[\w.-]*{_SENSITIVE_NAME}[\w.-]*["']?\s*[:=]\s*)(?!["'\[{{]|{re.escape(REDACTED)})[^\s,&;}}\])'"]+""",
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


# A secret shorter than this is masked only where it stands whole: a shorter one is too likely
# to be an ordinary word of the message.
_SECRET_MIN_LENGTH = 4
# A remote that repeats part of a secret ("key s3cr3tK3y... is unknown") leaks that part: any
# run of this many characters of a secret is masked too, wherever it stands.
SECRET_FRAGMENT_LENGTH = 8


def secret_forms(secret: str) -> list[str]:
    """The ways a remote may repeat a secret it was sent: as typed, percent-encoded (a key
    sent in the query string, echoed with its URL), JSON-escaped (echoed inside a JSON
    string), HTML-escaped (an HTML error page) and base64-encoded (`_base64_forms`); longest
    first, each once."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        *_base64_forms(secret),
    }
    return sorted(forms, key=len, reverse=True)


def _base64_forms(secret: str) -> set[str]:
    """The secret as base64 shows it inside whatever was encoded with it: HTTP Basic sends
    `user:key` (or `key:`, from `curl -u KEY:`) so, and an app may echo the header it refused.
    Base64 writes 3 bytes as 4 characters, so the text that the secret's own bytes alone
    decide is, at each of the 3 places it can start in a group, the groups wholly inside it
    (the characters at its edges also carry its neighbours' bits). Standard and URL-safe
    alphabets; only runs of SECRET_FRAGMENT_LENGTH or more, as for the plain fragments."""
    data = secret.encode()
    forms = set()
    for shift in range(3):
        first_group = -(-shift // 3)  # the first group that starts at the secret or after
        last_group = (shift + len(data)) // 3  # the groups that end inside it
        if last_group <= first_group:
            continue
        padded = bytes(shift) + data
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            run = encode(padded).decode()[4 * first_group : 4 * last_group]
            if len(run) >= SECRET_FRAGMENT_LENGTH:
                forms.add(run)
    return forms


def secrets_mask(text: str, secrets: Iterable[str], *, mask: str = REDACTED) -> str:
    """``text`` (a remote's message) without the secrets a request carried: each in every form
    `secret_forms` lists, and any run of SECRET_FRAGMENT_LENGTH or more of its characters.
    Over-masking only hides words from a reader; missing a form would show the secret."""
    values = sorted({s for s in secrets if s and len(s) >= _SECRET_MIN_LENGTH}, key=len)
    for secret in reversed(values):
        for form in secret_forms(secret):
            text = text.replace(form, mask)
        text = _fragments_mask(text, secret, mask)
    return text


def _fragments_mask(text: str, secret: str, mask: str) -> str:
    size = SECRET_FRAGMENT_LENGTH
    start = 0
    while start + size <= len(secret):
        if secret[start : start + size] not in text:
            start += 1
            continue
        end = start + size
        while end < len(secret) and secret[start : end + 1] in text:
            end += 1
        text = text.replace(secret[start:end], mask)
        start = end
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


# What a URL shown to people keeps is what identifies the endpoint: its scheme, host and port,
# and its path. Everything else that can carry a credential is masked:
# - a query parameter's value, every one of them (`?token=[REDACTED]&key=[REDACTED]`; names are
#   kept, a name-less item is masked whole): a webhook URL's query is where its credentials
#   usually are (`token`, `key`, `sig`, `code`, …), no list of names can be complete, and a
#   value shown to a reader serves nobody;
# - a fragment (never sent to the server, so it identifies nothing; an OAuth one holds tokens);
# - a password in the authority, and a user name that looks like a credential (below), as in
#   `https://<token>@host/`;
# - a path segment that looks like a credential (below).
#
# A path segment looks like a credential when either
# 1. it is 12 or more characters long and has an uppercase letter or a digit in it: a random
#    token almost always has one (Slack's `SLACKPATHSECRET`, a hex or base64 string, a UUID),
#    while a path an app chose is lowercase words (`/webhooks/provisioning-events`, `/hook`,
#    `/api/callbacks`), which stay readable; or
# 2. it comes after a known incoming-webhook prefix at the start of the path, where everything
#    that follows is ids and the secret, whatever its length or case: Slack's `/services/`,
#    Discord's `/api/webhooks/`, Microsoft Teams' `/webhookb2/`, Zapier's `/hooks/catch/`.
# Either rule may mask something harmless (`/api/v2/provisioning-events-2024`); that only hides
# it from a reader, where missing a secret would leak it.
_TOKEN_SEGMENT_MIN_LENGTH = 12
_TOKEN_SEGMENT_CHAR_RE = re.compile(r"[A-Z0-9]")
_WEBHOOK_PATH_PREFIXES = (
    ("services",),  # Slack: /services/T…/B…/<secret>
    ("api", "webhooks"),  # Discord: /api/webhooks/<id>/<token>
    ("webhookb2",),  # Microsoft Teams: /webhookb2/<guid>@<guid>/IncomingWebhook/<hex>/<guid>
    ("hooks", "catch"),  # Zapier: /hooks/catch/<account>/<hook>/
)


def _looks_like_credential(segment: str) -> bool:
    return len(segment) >= _TOKEN_SEGMENT_MIN_LENGTH and bool(
        _TOKEN_SEGMENT_CHAR_RE.search(segment)
    )


def _redact_path(path: str) -> str:
    segments = path.split("/")
    # segments[0] is "" for an absolute path; the prefix is matched case-insensitively.
    named = [segment.lower() for segment in segments[1:]]
    secret_from = len(segments)
    for prefix in _WEBHOOK_PATH_PREFIXES:
        if tuple(named[: len(prefix)]) == prefix:
            secret_from = 1 + len(prefix)
            break
    return "/".join(
        REDACTED
        if segment and (index >= secret_from or _looks_like_credential(segment))
        else segment
        for index, segment in enumerate(segments)
    )


def _redact_query(query: str) -> str:
    items = []
    for item in query.split("&"):
        name, equals, value = item.partition("=")
        if not equals:
            items.append(REDACTED if item else item)
        else:
            items.append(f"{name}={REDACTED if value else ''}")
    return "&".join(items)


def _redact_netloc(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return netloc
    user, colon, password = userinfo.partition(":")
    if _looks_like_credential(user):
        user = REDACTED
    return f"{user}{colon}{REDACTED if password else ''}{at}{hostport}"


def redact_url(url: str) -> str:
    """A URL as it may be shown to people (the audit log, the admin): scheme, host, port and
    path, with every query value, the fragment, a password in the authority and path segments
    that look like credentials masked (the rule above), then redact_text's rules. Only for
    values known to be URLs: in log text the same rules would hide every id."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL after all (a bad IPv6 host): text rules only
        return redact_text(url)
    redacted = parts._replace(
        netloc=_redact_netloc(parts.netloc),
        path=_redact_path(parts.path),
        query=_redact_query(parts.query),
        fragment=REDACTED if parts.fragment else "",
    )
    return redact_text(urlunsplit(redacted))

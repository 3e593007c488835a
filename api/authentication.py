"""API keys from djangorestframework-api-key, sent as `Authorization: Bearer <key>`.

`Authorization: Api-Key <key>` (the library's own keyword, which the first versions of this API
documented) is accepted as well. Keys are stored hashed (SHA-512 of a random 40-character key);
`manage.py create_api_key NAME --scope ...` prints a new key once. A missing key answers 401
`not_authenticated`; anything else that is not a valid key (a bare key, another scheme such as
Basic, a malformed key, a wrong, revoked or expired key) answers 401 `authentication_failed`,
whose message says what was received and shows the expected header. No message ever repeats
what was sent in place of a key: it may be a key, or another secret pasted by mistake.

Revoking a key (the admin, or any update of its row), its expiry and its scopes hold from the
next request, in every process: each request reads the key's `revoked` and `expiry_date`, and
its grant's scopes (api.models.ApiKeyGrant), in one statement by primary key. What each
process remembers is only that a key matched a row's stored hash (under the key's SHA-512,
never in clear): that cannot change, and it spares the lookup by prefix and the hash check (a
slow one for keys made by old versions of the library). Wrong keys are never remembered.

What a key may do is checked after authentication, per view (api.scopes, api.permissions).
"""

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework_api_key.models import APIKey

from api.api_key_audit import api_key_acting

KEYWORDS = ("bearer", "api-key")
EXPECTED_HEADER = "Authorization: Bearer <key>"
# RFC 6750: the challenge of a bearer-token API, with `error` once a token was sent.
CHALLENGE = 'Bearer realm="api"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="api", error="invalid_token"'
# Schemes a caller may plausibly send by mistake, named back in the error. Whatever else
# stands where a scheme belongs is never repeated: it may be the key itself.
_KNOWN_OTHER_SCHEMES = {
    name.lower(): name
    for name in ("Basic", "Digest", "Token", "JWT", "OAuth", "Negotiate", "NTLM", "ApiKey", "Key")
}
_KEY_CACHE_MAX_ENTRIES = 1000
# The library's keys are "<8-char prefix>.<32-char secret>", letters and digits. Anything else
# is refused before it reaches the database.
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$")

# SHA-512 of a key -> the APIKey row it was verified against (its id never changes).
_cache: dict[str, APIKey] = {}
_cache_lock = threading.Lock()


def api_key_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


@dataclass(frozen=True)
class ApiClient:
    """The caller of the API, standing in for `request.user`. `request.auth` is its APIKey;
    `scopes` are what its grant allows (api.scopes), as read with this request."""

    name: str
    scopes: frozenset[str] = frozenset()
    is_authenticated: bool = True
    is_anonymous: bool = False


# Every request of a known key runs this, so it is plain SQL: building the same query with the
# ORM cost about twice as much as the database round trip itself. One statement reads the key's
# state and its grant (scopes, and whether its last-used time is due for a write). Times are
# compared in the database, with the parameters adapted as the ORM adapts them (SQLite keeps
# datetimes as text, which a raw cursor would hand back as a string).
_KEY_STATE_SQL = (
    "SELECT k.name, k.revoked, k.expiry_date IS NOT NULL AND k.expiry_date < %s, k.expiry_date, "
    "g.scopes, g.api_key_id IS NOT NULL AND (g.last_used_at IS NULL OR g.last_used_at < %s) "
    "FROM rest_framework_api_key_apikey k "
    "LEFT JOIN api_apikeygrant g ON g.api_key_id = k.id WHERE k.id = %s"
)
# The last-used time is a hint for whoever reviews keys, not an access log: it is written at
# most once a minute per key, so that reads never turn into one write each. The condition is
# repeated in the UPDATE, so that processes racing for the same minute write once.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_LAST_USED_SQL = (
    "UPDATE api_apikeygrant SET last_used_at = %s "
    "WHERE api_key_id = %s AND (last_used_at IS NULL OR last_used_at < %s)"
)


@dataclass(frozen=True)
class _KeyState:
    name: str
    revoked: bool
    expired: bool
    expiry_date: object  # a datetime, or text on SQLite: only ever shown
    scopes: frozenset[str]
    last_used_due: bool


def _key_state(pk: str) -> _KeyState | None:
    """The key's row and grant as they are now; None once the key is deleted."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_KEY_STATE_SQL, [adapt(now), adapt(now - LAST_USED_RESOLUTION), pk])
        row = cursor.fetchone()
    if row is None:
        return None
    scopes = row[4]
    if isinstance(scopes, str):  # SQLite hands JSON back as text
        scopes = json.loads(scopes)
    return _KeyState(
        name=row[0],
        revoked=bool(row[1]),
        expired=bool(row[2]),
        expiry_date=row[3],
        scopes=frozenset(scopes or ()),
        last_used_due=bool(row[5]),
    )


def _last_used_record(pk: str) -> None:
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_LAST_USED_SQL, [adapt(now), pk, adapt(now - LAST_USED_RESOLUTION)])


def _when(moment) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(moment)[:16] + " UTC"


def _verified_key(key: str) -> APIKey:
    """The key's row, with its grant, in one query: the library's lookup by prefix and hash
    check (only keys that are not revoked), plus the grant."""
    prefix = key.partition(".")[0]
    try:
        api_key = APIKey.objects.get_usable_keys().select_related("grant").get(prefix=prefix)
    except APIKey.DoesNotExist:
        raise exceptions.AuthenticationFailed("The API key is not valid.") from None
    if not api_key.is_valid(key):
        raise exceptions.AuthenticationFailed("The API key is not valid.")
    return api_key


def _state_of_verified(api_key: APIKey) -> _KeyState:
    grant = getattr(api_key, "grant", None)  # select_related: no query; None if it has none
    last_used = grant.last_used_at if grant else None
    return _KeyState(
        name=api_key.name,
        revoked=api_key.revoked,
        expired=api_key.has_expired,
        expiry_date=api_key.expiry_date,
        scopes=frozenset(grant.scopes if grant else ()),
        last_used_due=grant is not None
        and (last_used is None or last_used < timezone.now() - LAST_USED_RESOLUTION),
    )


def _valid_api_key(key: str) -> tuple[APIKey, str, frozenset[str]]:
    """The key's row, its current name and scopes; AuthenticationFailed if it is wrong, revoked
    or expired now."""
    digest = hashlib.sha512(key.encode()).hexdigest()
    api_key = _cache.get(digest)
    if api_key is None:
        api_key = _verified_key(key)
        state = _state_of_verified(api_key)
        with _cache_lock:
            if len(_cache) >= _KEY_CACHE_MAX_ENTRIES:
                _cache.clear()
            _cache[digest] = api_key
    else:
        state = _key_state(api_key.pk)
        if state is None or state.revoked:
            # Revoked (for good) or deleted since its hash was verified.
            with _cache_lock:
                _cache.pop(digest, None)
            raise exceptions.AuthenticationFailed("The API key is not valid.")
    if state.expired:
        raise exceptions.AuthenticationFailed(
            f"The API key has expired (at {_when(state.expiry_date)}). Create a new key, or "
            "extend this one's expiry in the admin (API keys)."
        )
    if state.last_used_due:
        _last_used_record(api_key.pk)
    return api_key, state.name, state.scopes


def missing_credentials_message(request) -> str:
    """What a request without an Authorization header is told (401 `not_authenticated`)."""
    if request.META.get("HTTP_X_API_KEY"):
        return (
            "The API key was sent in an X-Api-Key header, which this API does not read. "
            f"Send it as `{EXPECTED_HEADER}`."
        )
    return f"No API key was sent. Send it as `{EXPECTED_HEADER}`."


def _header_problem(header: str) -> str | None:
    """Why an Authorization header cannot hold a key, or None when it has the expected form
    (a keyword, one space, a well-formed key). Never quotes the value."""
    scheme, _, rest = header.strip().partition(" ")
    if not rest.strip():
        if scheme.lower() in KEYWORDS:
            return f"The Authorization header has the {scheme.capitalize()} scheme but no key."
        return (
            "The Authorization header has no scheme, only one value (a bare key?). "
            "Put `Bearer ` before the key."
        )
    if scheme.lower() not in KEYWORDS:
        named = _KNOWN_OTHER_SCHEMES.get(scheme.lower())
        what = f"the {named} scheme" if named else "an unrecognised scheme"
        return f"The Authorization header uses {what}; API keys are sent as bearer tokens."
    if rest.split()[0].lower() in KEYWORDS:
        # A client that puts "Bearer " before a value that already starts with it.
        return (
            f"The Authorization header names its scheme twice ({scheme} {rest.split()[0]}); "
            "name it once, followed by the key."
        )
    if not _KEY_FORMAT.match(rest.strip()):
        return (
            "The API key is malformed: a key is 8 letters or digits, a dot and 32 letters "
            "or digits, as `manage.py create_api_key` printed it."
        )
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # the permission answers 401 not_authenticated
        problem = _header_problem(header)
        if problem is not None:
            raise exceptions.AuthenticationFailed(f"{problem} Send `{EXPECTED_HEADER}`.")
        api_key, name, scopes = _valid_api_key(header.strip().partition(" ")[2].strip())
        api_key_acting(api_key, name)  # the audit log's actor for this request
        return ApiClient(name=name, scopes=scopes), api_key

    def authenticate_header(self, request):
        if request.META.get("HTTP_AUTHORIZATION"):
            return INVALID_TOKEN_CHALLENGE
        return CHALLENGE

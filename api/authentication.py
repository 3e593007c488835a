"""API keys from djangorestframework-api-key, sent as `Authorization: Bearer <key>`.

`Authorization: Api-Key <key>` (the library's own keyword, which the first versions of this API
documented) is accepted as well. Keys are stored hashed (SHA-512 of a random 40-character key);
`manage.py create_api_key NAME` prints a new key once. A missing key answers 401
`not_authenticated`; anything else that is not a valid key (a bare key, another scheme such as
Basic, a malformed key, a wrong, revoked or expired key) answers 401 `authentication_failed`,
whose message says what was received and shows the expected header. No message ever repeats
what was sent in place of a key: it may be a key, or another secret pasted by mistake.

Revoking a key (the admin, or any update of its row) and its expiry hold from the next
request, in every process: each request reads the key's `revoked` and `expiry_date` from its
row, by primary key. What each process remembers is only that a key matched a row's stored
hash (under the key's SHA-512, never in clear): that cannot change, and it spares the lookup by
prefix and the hash check (a slow one for keys made by old versions of the library). Wrong keys
are never remembered.
"""

import hashlib
import re
import threading
from dataclasses import dataclass

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
    """The caller of the API, standing in for `request.user`. `request.auth` is its APIKey."""

    name: str
    is_authenticated: bool = True
    is_anonymous: bool = False


# Every request of a known key runs this, so it is plain SQL: building the same query with the
# ORM cost about twice as much as the database round trip itself. The expiry is compared in
# the database, with the parameter adapted as the ORM adapts it for `expiry_date__lt` (SQLite
# keeps datetimes as text, which a raw cursor would hand back as a string).
_KEY_STATE_SQL = (
    "SELECT name, revoked, expiry_date IS NOT NULL AND expiry_date < %s "
    "FROM rest_framework_api_key_apikey WHERE id = %s"
)


def _key_state(pk: str) -> tuple[str, bool, bool] | None:
    """(name, revoked, expired) of the key's row as it is now; None once it is deleted."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_KEY_STATE_SQL, [now, pk])
        row = cursor.fetchone()
    return None if row is None else (row[0], bool(row[1]), bool(row[2]))


def _valid_api_key(key: str) -> tuple[APIKey, str]:
    """The key's row and its current name; AuthenticationFailed if it is wrong, revoked or
    expired now."""
    digest = hashlib.sha512(key.encode()).hexdigest()
    api_key = _cache.get(digest)
    if api_key is None:
        try:
            api_key = APIKey.objects.get_from_key(key)  # only keys that are not revoked
        except APIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from None
        with _cache_lock:
            if len(_cache) >= _KEY_CACHE_MAX_ENTRIES:
                _cache.clear()
            _cache[digest] = api_key
        name, expired = api_key.name, api_key.has_expired
    else:
        state = _key_state(api_key.pk)
        if state is None or state[1]:
            # Revoked (for good) or deleted since its hash was verified.
            with _cache_lock:
                _cache.pop(digest, None)
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        name, _, expired = state
    if expired:
        raise exceptions.AuthenticationFailed("The API key has expired.")
    return api_key, name


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
        api_key, name = _valid_api_key(header.strip().partition(" ")[2].strip())
        api_key_acting(api_key, name)  # the audit log's actor for this request
        return ApiClient(name=name), api_key

    def authenticate_header(self, request):
        if request.META.get("HTTP_AUTHORIZATION"):
            return INVALID_TOKEN_CHALLENGE
        return CHALLENGE

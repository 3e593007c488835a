"""API keys from djangorestframework-api-key, sent as `Authorization: Api-Key <key>`.

Keys are stored hashed (SHA-512 of a random 40-character key); `manage.py create_api_key NAME`
prints a new key once. A missing key answers 401 `not_authenticated`; a wrong, revoked or
expired key answers 401 `authentication_failed`.

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
from rest_framework_api_key.permissions import KeyParser

KEYWORD = "Api-Key"
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


class ApiKeyAuthentication(authentication.BaseAuthentication):
    key_parser = KeyParser()

    def authenticate(self, request):
        key = self.key_parser.get_from_authorization(request)
        if key is None:
            return None
        key = key.strip()
        if not _KEY_FORMAT.match(key):
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        api_key, name = _valid_api_key(key)
        return ApiClient(name=name), api_key

    def authenticate_header(self, request):
        return KEYWORD

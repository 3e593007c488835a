"""API keys from djangorestframework-api-key, sent as `Authorization: Api-Key <key>`.

Keys are stored hashed (SHA-512 of a random 40-character key); `manage.py create_api_key NAME`
prints a new key once. A missing key answers 401 `not_authenticated`; a wrong, revoked or
expired key answers 401 `authentication_failed`.

A key found valid is remembered by each process for KEY_CACHE_SECONDS (under its SHA-512, never
in clear), which saves a database round trip on almost every request. The price: revoking a
key takes up to that long to reach every process. Wrong keys are never cached.
"""

import hashlib
import re
import threading
import time
from dataclasses import dataclass

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import KeyParser

KEYWORD = "Api-Key"
KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_MAX_ENTRIES = 1000
# The library's keys are "<8-char prefix>.<32-char secret>", letters and digits. Anything else
# is refused before it reaches the database.
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$")

_cache: dict[str, tuple[float, APIKey]] = {}
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


def _valid_api_key(key: str) -> APIKey:
    digest = hashlib.sha512(key.encode()).hexdigest()
    now = time.monotonic()
    cached = _cache.get(digest)
    if cached is not None and cached[0] > now:
        api_key = cached[1]
    else:
        try:
            api_key = APIKey.objects.get_from_key(key)
        except APIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from None
        with _cache_lock:
            if len(_cache) >= _KEY_CACHE_MAX_ENTRIES:
                _cache.clear()
            _cache[digest] = (now + KEY_CACHE_SECONDS, api_key)
    if api_key.expiry_date is not None and api_key.expiry_date < timezone.now():
        raise exceptions.AuthenticationFailed("The API key has expired.")
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    key_parser = KeyParser()

    def authenticate(self, request):
        key = self.key_parser.get_from_authorization(request)
        if key is None:
            return None
        key = key.strip()
        if not _KEY_FORMAT.match(key):
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        api_key = _valid_api_key(key)
        return ApiClient(name=api_key.name), api_key

    def authenticate_header(self, request):
        return KEYWORD

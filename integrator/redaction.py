"""Keeping secrets out of logs, exception messages, reprs and call records.

Over-masking is harmless here (it only affects what people read), under-masking leaks a
credential, so the rules are broad: a known secret field name, or any name containing
"password", "secret" or "passphrase".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "******"

# Field names that hold secrets in integrator.io documents (docs/integrator-io.md,
# Connections: type-specific fields and iClients), plus the usual names for credentials in
# query strings.
SECRET_FIELD_NAMES = frozenset(
    {
        "authorization",
        "token",
        "bearertoken",
        "refreshtoken",
        "accesstoken",
        "access_token",
        "tokenid",
        "key",
        "authkey",
        "apikey",
        "api_key",
        "pfx",
        "pgpencryptkey",
        "pgpdecryptkey",
        "encrypted",
        "consumerkey",
        "certid",
        "sig",
        "signature",
    }
)
SECRET_NAME_PARTS = ("password", "secret", "passphrase")


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_FIELD_NAMES or any(part in lowered for part in SECRET_NAME_PARTS)


def redact(value: Any) -> Any:
    """Return a copy of a JSON-like value with every secret field's value masked."""
    if isinstance(value, dict):
        return {
            key: (
                MASK
                if is_secret_field(str(key))
                and item is not None
                and not isinstance(item, dict | list)
                else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_url(url: str) -> str:
    """Mask the values of secret-looking query parameters; keep the path (and its ids)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (name, MASK if is_secret_field(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:*")))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a known secret value (e.g. the API token) in free text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a secret (for Redis keys and reprs)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]

"""Encryption at rest for the few values the service must keep and must not be readable in a
copy of its database (a stored API response that carried a secret, tokens, client secrets).

AES-256-GCM (the `cryptography` package) with keys from the environment, never the database:

    ENCRYPTION_KEYS="k2:<base64 of 32 bytes>,k1:<base64 of 32 bytes>"

The first key encrypts; every listed key decrypts, so a key is rotated by putting a new one
first and re-encrypting (`manage.py rotate_encryption_key`) before the old one is removed. A
ciphertext names its key: `v1.<key id>.<base64url(nonce + ciphertext)>`.

Each value is bound to where it is stored (its `context`, e.g. "idempotency-body:<row id>")
as GCM's associated data: a ciphertext copied into another row does not decrypt there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
KEY_ID_RULE = "1-16 letters, digits, _ or -"


class DecryptionFailed(Exception):
    """The value was not made with any configured key for this context, or was altered."""


@dataclass(frozen=True)
class Keyring:
    primary: str
    keys: dict[str, bytes]


def keyring_parse(value: str) -> Keyring:
    """`id:base64key[,id:base64key...]`; raises ImproperlyConfigured with what is wrong."""
    keys: dict[str, bytes] = {}
    for position, item in enumerate((part.strip() for part in value.split(",")), start=1):
        if not item:
            continue
        key_id, colon, encoded = item.partition(":")
        if not colon or not key_id_valid(key_id):
            # Never repeat the entry: without its `id:` it may be the key itself, and this
            # message goes to a console and a log.
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS: entry {position} is not `id:key` with an id of {KEY_ID_RULE} "
                "(for example k1:<key>, as `python manage.py generate_encryption_key` prints it)."
            )
        if ":" in encoded:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS: entry {position} ({key_id!r}) has its id twice: write each "
                "entry as the generator prints it, id:key, once."
            )
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS: key {key_id!r} must be 32 bytes in base64 (generate one with "
                "`python manage.py generate_encryption_key`)."
            )
        if key_id in keys:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS: key id {key_id!r} appears twice: give the new key an id not "
                "in use (`python manage.py generate_encryption_key` picks one when "
                "ENCRYPTION_KEYS is set, or pass --id)."
            )
        keys[key_id] = raw
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty.")
    return Keyring(primary=next(iter(keys)), keys=keys)


def key_id_valid(key_id: str) -> bool:
    return bool(_KEY_ID.match(key_id))


def key_new() -> str:
    """A new key in the form ENCRYPTION_KEYS takes (without its id)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def development_key(secret_key: str) -> str:
    """The key a development setup (DEBUG=1, no ENCRYPTION_KEYS) uses: derived from
    SECRET_KEY, so that it is stable for a checkout and never a shared constant."""
    digest = hashlib.sha256(b"encryption-at-rest:" + secret_key.encode()).digest()
    return "dev:" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


@cache
def _keyring(value: str) -> Keyring:
    return keyring_parse(value)


def keyring() -> Keyring:
    return _keyring(settings.ENCRYPTION_KEYS)


def encrypt(plaintext: str, *, context: str) -> str:
    ring = keyring()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.primary]).encrypt(nonce, plaintext.encode(), context.encode())
    encoded = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}.{ring.primary}.{encoded}"


def decrypt(ciphertext: str, *, context: str) -> str:
    version, key_id, encoded = _split(ciphertext)
    key = keyring().keys.get(key_id)
    if version != VERSION or key is None:
        raise DecryptionFailed(f"no configured key {key_id!r} (ENCRYPTION_KEYS)")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        opened = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
    except (binascii.Error, ValueError, InvalidTag):
        raise DecryptionFailed("the value was altered, or belongs to another record") from None
    return opened.decode()


def column_reencrypt(
    queryset, *, field: str, context: Callable[[Any], str], label: Callable[[Any], str]
) -> tuple[int, list[str]]:
    """Re-encrypt `field` of every row of `queryset` not yet under the newest key (key
    rotation): (re-encrypted, the `label`s of rows no configured key opens, to be set again).
    A row is rewritten only if nobody changed the value meanwhile (a new value set by a
    person wins)."""
    primary = keyring().primary
    done, unreadable = 0, []
    for row in queryset.exclude(**{field: ""}):
        sealed = getattr(row, field)
        if key_id_of(sealed) == primary:
            continue
        try:
            value = decrypt(sealed, context=context(row))
        except DecryptionFailed:
            unreadable.append(label(row))
            continue
        done += (
            type(row)
            .objects.filter(pk=row.pk, **{field: sealed})
            .update(**{field: encrypt(value, context=context(row))})
        )
    return done, unreadable


def key_id_of(ciphertext: str) -> str:
    return _split(ciphertext)[1]


def _split(ciphertext: str) -> tuple[str, str, str]:
    parts = ciphertext.split(".", 2)
    if len(parts) != 3:
        raise DecryptionFailed("not a ciphertext of this service")
    return parts[0], parts[1], parts[2]

"""Endpoint secrets and the signature every delivery carries.

Secrets: an endpoint's secret is `whsec_` + base64url(HMAC-SHA256(WEBHOOK_SIGNING_KEY,
"webhook-endpoint-secret:" + salt)). Only the random salt is stored, so a copy of the
database alone reveals no secret; the secret is shown once (on create or rotate) and never
again. Keep WEBHOOK_SIGNING_KEY stable: changing it changes every endpoint's secret. Without
it, the key is derived from SECRET_KEY (so rotating SECRET_KEY would change them too).

Signature: each request carries

    Webhook-Id: <event id>                  the same on every retry and replay: dedupe on it
    Webhook-Timestamp: <unix seconds>       when this attempt was signed
    Webhook-Signature: t=<timestamp>,v1=<hex HMAC-SHA256(secret, f"{timestamp}." + body)>

For a while after a rotation (`WebhookEndpoint.previous_secret_expires_at`) the header carries
a second v1, made with the previous secret: `t=...,v1=<new>,v1=<old>`. A receiver recomputes
v1 over the raw body bytes, accepts the request when any v1 matches (compared in constant
time), and refuses a timestamp more than a few minutes old (replay protection).
`signature_verify` does exactly that and is what a Python receiver can copy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from django.conf import settings

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Webhook-Signature"
TIMESTAMP_HEADER = "Webhook-Timestamp"
ID_HEADER = "Webhook-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def secret_salt_new() -> str:
    return secrets.token_hex(32)


def _signing_key() -> bytes:
    configured = getattr(settings, "WEBHOOK_SIGNING_KEY", "")
    if configured:
        return configured.encode()
    return hashlib.sha256(b"webhook-signing-key:" + settings.SECRET_KEY.encode()).digest()


def endpoint_secret(*, salt: str) -> str:
    """The endpoint's signing secret (derived, never stored)."""
    digest = hmac.new(
        _signing_key(), b"webhook-endpoint-secret:" + salt.encode(), hashlib.sha256
    ).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signature_header(
    *, secret: str, timestamp: int, body: bytes, previous_secret: str | None = None
) -> str:
    """The Webhook-Signature value; with `previous_secret` (a rotation's grace window), a
    second v1 after the new secret's, so that a receiver still holding the old secret
    verifies it too."""
    header = f"t={timestamp},v1={_digest(secret, timestamp, body)}"
    if previous_secret:
        header += f",v1={_digest(previous_secret, timestamp, body)}"
    return header


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` (Webhook-Signature) signs `body` with `secret` and is recent."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))

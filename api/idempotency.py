"""Safe retries: a write sent again with the same `Idempotency-Key` gets the first response.

1. A POST, PUT, PATCH or DELETE with the header claims the key for its API key by inserting an
   `IdempotencyRecord`. The unique constraint decides which of two concurrent requests wins.
2. The loser, and any later request with the key, reads the record:
   - a different method, path or body: 422 `idempotency_key_reused`, saying which differs;
   - the first request is still running: 409 `idempotency_request_in_progress` (retry later);
   - otherwise the stored status, body and Location are replayed, with
     `Idempotent-Replayed: true`.
3. When the first request finishes, its response is stored, encrypted (core.encryption): it
   may carry a secret that is shown once. A 5xx is not stored (the record is deleted) so that
   a retry runs again, since nothing was promised; nor is a 429, which asks for that very
   retry after its Retry-After (a stored one would answer the retry with itself for the
   whole replay window), nor any other answer with a Retry-After (a 409 `job_in_progress`
   or `tenant_deprovisioning`: a conflict that passes by itself); nor is a 400, a request
   refused for its content before anything ran, so that the corrected request may use the
   same key (as Stripe keeps no result of a request that failed validation).
4. A record older than `REPLAY_WINDOW` no longer counts and is replaced; one whose request
   died mid-way (locked longer than `LOCK_TIMEOUT`) can be claimed by a retry.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.models import IdempotencyRecord
from core.encryption import DecryptionFailed, decrypt, encrypt, key_id_of, keyring
from core.errors import ApplicationError, ConflictError, UnprocessableError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAY_WINDOW = timedelta(hours=24)
# Longer than any request may take (integrator.io calls time out well before this).
LOCK_TIMEOUT = timedelta(minutes=2)
_KEY_FORMAT = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Claimed:
    record: IdempotencyRecord


@dataclass(frozen=True)
class Replay:
    record: IdempotencyRecord


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """The same request, byte for byte or as equal JSON (key order and spacing aside)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_key_check(*, key: str) -> str:
    if not _KEY_FORMAT.match(key):
        raise ApplicationError(
            f"The {HEADER} header must be 1 to 255 printable ASCII characters.",
            code="invalid_idempotency_key",
        )
    return key


def idempotency_claim(
    *, api_key: APIKey, key: str, method: str, path: str, fingerprint: str
) -> Claimed | Replay:
    """Claim `key` for this request, or return the stored response to replay."""
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    api_key=api_key,
                    key=key,
                    method=method,
                    path=path[:2000],
                    request_fingerprint=fingerprint,
                    created_at=now,
                    locked_at=now,
                )
            return Claimed(record)
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if record is None:
            continue  # purged in between: claim again
        if record.created_at < now - REPLAY_WINDOW:
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.request_fingerprint != fingerprint:
            raise _reused(record, method=method, path=path[:2000])
        if record.response_status is not None:
            return Replay(record)
        if record.locked_at < now - LOCK_TIMEOUT:
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, locked_at=record.locked_at, response_status__isnull=True
            ).update(locked_at=now)
            if taken == 1:
                record.locked_at = now
                return Claimed(record)
        raise _in_progress(
            f"A request with this {HEADER} is still being processed. Retry it later."
        )
    raise _in_progress(f"The {HEADER} is contended. Retry the request.")


# When to try again after a 409 idempotency_request_in_progress: the first request usually
# answers within a second or two, and a client's own backoff (or the header's absence) left
# it guessing how long "later" is.
IN_PROGRESS_RETRY_SECONDS = 1


def _in_progress(message: str) -> ConflictError:
    error = ConflictError(message, code="idempotency_request_in_progress")
    error.retry_after = IN_PROGRESS_RETRY_SECONDS  # the API answers it as Retry-After
    return error


def _reused(record: IdempotencyRecord, *, method: str, path: str) -> UnprocessableError:
    """The key's first request differs from this one: say which part, the method or path (as
    Stripe names the endpoint a key was first used for) or only the body, so that the caller
    can tell a key sent to the wrong place from a request changed between retries."""
    first = f"{record.method} {record.path}"
    if (record.method, record.path) != (method, path):
        what = f"for another method or path ({first}; this request is {method} {path})"
    else:
        what = f"for a different request ({first} with another body)"
    return UnprocessableError(
        f"This {HEADER} was already used {what}. Use a new key.", code="idempotency_key_reused"
    )


def idempotency_complete(
    *,
    record: IdempotencyRecord,
    status: int,
    body: bytes,
    content_type: str,
    location: str = "",
    retry_after: str = "",
) -> None:
    if status >= 500 or status in (400, 429) or retry_after:
        IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).update(
        response_status=status,
        # Encrypted: a response may carry a secret shown once (a webhook endpoint's signing
        # secret, a connect link's token), which must not sit readable in the database.
        response_body=encrypt(body.decode("utf-8", errors="replace"), context=_context(record)),
        response_content_type=content_type[:100],
        response_location=location[:2000],
        completed_at=timezone.now(),
    )


def idempotency_replay_body(*, record: IdempotencyRecord) -> bytes:
    """The stored response body, decrypted."""
    try:
        return decrypt(record.response_body, context=_context(record)).encode()
    except DecryptionFailed:
        # Its key was removed from ENCRYPTION_KEYS: the response cannot be given again, and
        # running the request again could do twice what was done once.
        raise ConflictError(
            f"The first response to this {HEADER} can no longer be read (its encryption key "
            "was retired). Check the outcome with a GET, then use a new key.",
            code="idempotency_record_unreadable",
        ) from None


def idempotency_responses_reencrypt() -> tuple[int, int]:
    """Re-encrypt every stored response not yet under the newest key (key rotation):
    (re-encrypted, unreadable). An unreadable one (its key already gone) is left as it is:
    a replay of it answers `idempotency_record_unreadable`, and it ages out in REPLAY_WINDOW."""
    primary = keyring().primary
    done = unreadable = 0
    stored = IdempotencyRecord.objects.filter(response_status__isnull=False).exclude(
        response_body=""
    )
    for record in stored.iterator():
        if key_id_of(record.response_body) == primary:
            continue
        try:
            body = decrypt(record.response_body, context=_context(record))
        except DecryptionFailed:
            unreadable += 1
            continue
        done += IdempotencyRecord.objects.filter(
            pk=record.pk, response_body=record.response_body
        ).update(response_body=encrypt(body, context=_context(record)))
    return done, unreadable


def _context(record: IdempotencyRecord) -> str:
    return f"idempotency-response:{record.pk}"


def idempotency_records_purge(*, older_than: timedelta = REPLAY_WINDOW) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted

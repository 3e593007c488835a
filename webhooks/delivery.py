"""Sending one delivery: take its lease, POST the signed event, record what happened.

1. Take the delivery's lease (core.leases: a compare-and-swap; only a pending, due delivery
   that no live worker holds). Losing the race means another worker has it: do nothing.
2. POST the event body with its signature headers. No redirects are followed; the answer's
   body is read only up to a few hundred bytes (for the log; a body that breaks off is
   left out, the status stands).
3. Classify: 2xx delivered; 429, 5xx, a timeout or a network error are retried with
   exponential backoff and jitter, at least as late as the receiver's Retry-After, at most
   WEBHOOK_RETRY_MAX_SECONDS, until WEBHOOK_MAX_ATTEMPTS have been made (then dead-lettered;
   a test event, `ping`, failed);
   any other answer (3xx, 4xx) fails the delivery at once, and so does an endpoint URL that
   cannot be called (stored before core.http_urls checked it as strictly): nothing is sent,
   and the attempt says what is wrong with the URL.
4. Record the attempt and the delivery's new state, but only while this worker still holds
   the lease: a worker that outlived its lease does not overwrite its successor.

At least once: a worker that dies between the receiver's 2xx and step 4 leaves the delivery
pending; the sweeper sends it again after the lease runs out. Receivers dedupe on Webhook-Id.
Each claim counts an attempt, so a delivery whose attempts keep ending that way is given up
(dead-lettered) once WEBHOOK_MAX_ATTEMPTS have been claimed, not sent without end.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from urllib3.exceptions import HTTPError, LocationValueError

from core import metrics
from core.http_urls import http_url_problem
from core.leases import lease_free, lease_held, lease_take
from core.redaction import redact_url
from retry_policy import retry_after_seconds, retry_delay
from webhooks import signing
from webhooks.events import event_body
from webhooks.models import DeliveryStatus, EventType, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

USER_AGENT = "embedded-integrations-webhooks/1"
RESPONSE_SNIPPET_BYTES = 200
# A task that arrives a moment before its countdown ends still counts as due.
DUE_SKEW = timedelta(seconds=1)

_local = threading.local()


@dataclass(frozen=True)
class AttemptOutcome:
    status: str
    # Seconds until the next attempt, when one is scheduled.
    retry_in: float | None = None


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        _local.session = session
    return session


def lease_seconds() -> float:
    # Connect and read timeouts, plus the time to write the result down.
    return 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 1


def delivery_retry_delay(*, attempts: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempts + 1`: exponential with jitter, at least Retry-After,
    at most WEBHOOK_RETRY_MAX_SECONDS (retry_policy)."""
    return retry_delay(
        attempt=attempts,
        base=settings.WEBHOOK_RETRY_BASE_SECONDS,
        cap=float(settings.WEBHOOK_RETRY_MAX_SECONDS),
        retry_after=retry_after,
    )


def delivery_claim(*, delivery_id: str) -> int | None:
    """Take the delivery's lease (core.leases); the generation held, or None if it is not
    ours to send (not pending, not due, or held by a live worker)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + DUE_SKEW
    )
    return lease_take(
        due,
        now=now,
        until=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        last_attempt_at=now,
    )


def delivery_attempt(*, delivery_id: str) -> AttemptOutcome | None:
    """Make one attempt at a delivery (see the module docstring); None if it was not due or
    another worker holds it."""
    generation = delivery_claim(delivery_id=delivery_id)
    if generation is None:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        # Nothing was sent: the claim's count of this attempt is taken back, so that
        # `attempts` stays the number of requests the log lists, and the last answer stays
        # the one the last of them had.
        _finish(
            delivery,
            generation,
            status=DeliveryStatus.CANCELED,
            status_code=delivery.last_status_code,
            error="The endpoint is disabled.",
            uncount=True,
            last_attempt_logged=True,
        )
        _count(delivery, DeliveryStatus.CANCELED)
        return AttemptOutcome(DeliveryStatus.CANCELED)

    if delivery.attempts > settings.WEBHOOK_MAX_ATTEMPTS:
        # Every attempt allowed was claimed, and the last ended without recording what came of
        # it (a worker killed or crashed mid-attempt: the sweeper sends such a delivery again).
        # One that stops its worker every time would otherwise be sent without end.
        status = (
            DeliveryStatus.FAILED
            if delivery.event.event_type == EventType.PING
            else DeliveryStatus.DEAD
        )
        _finish(
            delivery,
            generation,
            status=status,
            status_code=delivery.last_status_code,
            error=(
                f"Gave up after {settings.WEBHOOK_MAX_ATTEMPTS} attempts; the last ended "
                "without an outcome recorded (its worker stopped mid-attempt)."
            ),
            uncount=True,
        )
        _count(delivery, status)
        return AttemptOutcome(status)

    started = timezone.now()
    clock = time.monotonic()
    status_code, error, retry_after, permanent = _post(delivery)
    duration_ms = int((time.monotonic() - clock) * 1000)

    retryable = not permanent and (status_code is None or status_code == 429 or status_code >= 500)
    if status_code is not None and 200 <= status_code < 300:
        outcome = AttemptOutcome(DeliveryStatus.DELIVERED)
    elif retryable and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = delivery_retry_delay(attempts=delivery.attempts, retry_after=retry_after)
        outcome = AttemptOutcome(DeliveryStatus.PENDING, retry_in=delay)
    elif retryable and delivery.event.event_type == EventType.PING:
        # Dead letters are events a host app lost (they page ops: WebhookDeadLetters); a test
        # event to an endpoint still being built is none.
        outcome = AttemptOutcome(DeliveryStatus.FAILED)
        error = (
            f"{error} Gave up after {delivery.attempts} attempts (a test event: not dead-lettered)."
        )
    elif retryable:
        outcome = AttemptOutcome(DeliveryStatus.DEAD)
        error = f"{error} Gave up after {delivery.attempts} attempts."
    else:
        outcome = AttemptOutcome(DeliveryStatus.FAILED)
    recorded, retry_in = _finish(
        delivery,
        generation,
        status=outcome.status,
        status_code=status_code,
        error=error if outcome.status != DeliveryStatus.DELIVERED else "",
        attempt=WebhookAttempt(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error[:500],
        ),
        retry_in=outcome.retry_in,
    )
    if not recorded:
        return None
    _count(delivery, outcome.status)
    if retry_in != outcome.retry_in:
        outcome = AttemptOutcome(outcome.status, retry_in=retry_in)
    if outcome.status != DeliveryStatus.DELIVERED:
        _failure_log(delivery, outcome, status_code=status_code, error=error)
    return outcome


def _failure_log(
    delivery: WebhookDelivery, outcome: AttemptOutcome, *, status_code: int | None, error: str
) -> None:
    """One line per failed attempt, for the operator watching the worker's log (the host
    app's developer reads the delivery log). Neither the URL nor the answer's body: either
    may carry the host app's secrets. Without an answer, the error is the service's own words
    (which name no URL)."""
    what = f"HTTP {status_code}" if status_code is not None else error
    if outcome.status == DeliveryStatus.PENDING:
        then = f"next attempt in {outcome.retry_in:.0f} s"
    elif outcome.status == DeliveryStatus.DEAD:
        then = f"gave up after {delivery.attempts} attempts (dead-lettered)"
    else:
        then = f"not retried ({outcome.status})"
    logger.warning(
        "webhook delivery %s (event %s, endpoint %s) attempt %d failed: %s; %s",
        delivery.pk,
        delivery.event.event_type,
        delivery.endpoint_id,
        delivery.attempts,
        what,
        then,
    )


# A pending outcome is an attempt that failed and will be tried again.
_OUTCOME_LABELS = {DeliveryStatus.PENDING: "retry"}


def _count(delivery: WebhookDelivery, status: str) -> None:
    """The attempt in the process's metrics (core.metrics), once recorded; a delivery's lag
    runs from its event being recorded to the receiver's 2xx."""
    outcome = _OUTCOME_LABELS.get(status, str(status))
    metrics.record_safely(metrics.WEBHOOK_DELIVERY_ATTEMPTS.labels(outcome).inc)
    if status == DeliveryStatus.DELIVERED:
        lag = metrics.seconds_since(delivery.event.created_at, timezone.now())
        metrics.record_safely(metrics.WEBHOOK_DELIVERY_LAG_SECONDS.observe, lag or 0.0)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, float | None, bool]:
    """(status code or None, error text, Retry-After seconds, whether no attempt can ever
    succeed) of one POST."""
    endpoint = delivery.endpoint
    # A URL stored before the API and the admin checked it as strictly as now (core.http_urls)
    # can never be called: the HTTP client cannot even parse some. Said, and not retried.
    problem = http_url_problem(endpoint.url)
    if problem is not None:
        return None, _unusable_url_error(delivery, problem), None, True
    body = event_body(event=delivery.event)
    timestamp = int(time.time())
    secret = signing.endpoint_secret(salt=endpoint.secret_salt)
    # Within a rotation's grace window the old secret signs too (signing.signature_header).
    previous_secret = (
        signing.endpoint_secret(salt=endpoint.previous_secret_salt)
        if endpoint.previous_secret_valid_until(timezone.now())
        else None
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.ID_HEADER: str(delivery.event_id),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature_header(
            secret=secret, timestamp=timestamp, body=body, previous_secret=previous_secret
        ),
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with _session().post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=(min(5.0, timeout), timeout),
            allow_redirects=False,
            stream=True,
        ) as response:
            status = response.status_code
            snippet = _snippet(response)
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            location = response.headers.get("Location", "")
    except requests.Timeout:
        return None, f"No answer within {timeout:g}s.", None, False
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
        # The URL passed the check, yet the client refuses it: as permanent as the above.
        return None, _unusable_url_error(delivery, f"({type(exc).__name__})"), None, True
    except requests.RequestException as exc:
        return None, f"Could not reach the endpoint ({type(exc).__name__}).", None, False
    except LocationValueError as exc:
        # urllib3's LocationParseError (a host it cannot encode) escapes requests' exceptions.
        return None, _unusable_url_error(delivery, f"({type(exc).__name__})"), None, True
    if 200 <= status < 300:
        return status, "", None, False
    if 300 <= status < 400:
        return status, _redirect_error(status, location), retry_after, False
    text = snippet.decode("utf-8", errors="replace").strip()
    return status, f"HTTP {status}" + (f": {text}" if text else ""), retry_after, False


def _snippet(response: requests.Response) -> bytes:
    """The start of the answer's body, for the log. The status line and headers have come:
    they are the answer. A body that breaks off or stalls (a proxy closing the connection, a
    handler that crashed after answering) raises urllib3's own errors, which requests does
    not wrap here; it leaves the log without a body, and the status stands (a receiver that
    said 200 took the event: sending it again would not change that)."""
    try:
        return response.raw.read(RESPONSE_SNIPPET_BYTES, decode_content=True) or b""
    except (HTTPError, OSError):
        return b""


def _unusable_url_error(delivery: WebhookDelivery, problem: str) -> str:
    """Why a delivery failed before any request: what is wrong with its endpoint's URL (never
    the URL: it may carry the host app's secret), and what to do."""
    return (
        f"Nothing was sent: the endpoint's URL cannot be used. {problem} Change it "
        f"(PATCH /api/v1/webhooks/endpoints/{delivery.endpoint_id}), then replay the delivery."
    )


def _redirect_error(status: int, location: str) -> str:
    """A redirect is a failure (signed requests are not sent on to another address): say so,
    and where it pointed (masked as the endpoint's own URL is: it may carry a token), so that
    the host app's developer can change the endpoint's URL."""
    where = f" to {redact_url(location)}" if location else ""
    return (
        f"HTTP {status}{where}: redirects are not followed; set the endpoint's URL to the "
        "address it redirects to."
    )


def _finish(
    delivery: WebhookDelivery,
    generation: int,
    *,
    status: str,
    status_code: int | None = None,
    error: str = "",
    attempt: WebhookAttempt | None = None,
    retry_in: float | None = None,
    uncount: bool = False,
    last_attempt_logged: bool = False,
) -> tuple[bool, float | None]:
    """Record the attempt while `generation` holds the lease; (whether it was recorded, the
    seconds until the next attempt). A retry is due at once, not after its backoff, when a
    replay asked for the delivery to be sent now while this attempt ran (it moved
    `next_attempt_at` off the value this attempt was claimed with; see
    services.delivery_replay): that attempt failed, and the one asked for is still owed."""
    now = timezone.now()
    changes = {
        "status": status,
        "lease_expires_at": None,
        "last_status_code": status_code,
        "last_error": error[:500],
    }
    if uncount:
        changes["attempts"] = F("attempts") - 1
    if last_attempt_logged:
        # The claim also stamped `last_attempt_at`: it goes back to the last request the log
        # lists (none: null), not the moment this claim found nothing to send.
        changes["last_attempt_at"] = Subquery(
            WebhookAttempt.objects.filter(delivery=OuterRef("pk"))
            .order_by("-number")
            .values("started_at")[:1]
        )
    if status == DeliveryStatus.DELIVERED:
        changes["delivered_at"] = now
    with transaction.atomic():
        held = lease_held(WebhookDelivery.objects.filter(pk=delivery.pk), generation=generation)
        if retry_in is not None:
            # Locked: a send-now that comes after this read waits, then finds the delivery
            # free and due later, and makes it due now itself.
            due = held.select_for_update().values_list("next_attempt_at", flat=True).first()
            if due is not None and due != delivery.next_attempt_at:
                retry_in = 0.0
            changes["next_attempt_at"] = now + timedelta(seconds=retry_in)
        updated = held.update(**changes)
        if updated and attempt is not None:
            attempt.save()
    return bool(updated), retry_in


def deliveries_due(*, grace_seconds: float = 60.0, limit: int = 1000) -> list[str]:
    """Pending deliveries that no task seems to be carrying: due for more than
    `grace_seconds` and not held by a live lease (their worker died, or the message was lost)."""
    now = timezone.now()
    ids = (
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=grace_seconds),
        )
        .filter(lease_free(now=now))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    return [str(delivery_id) for delivery_id in ids]

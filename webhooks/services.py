"""Recording events (the outbox), managing endpoints, and replaying deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record, snapshot
from core.accounts import integrator_account_default, integrator_account_get
from core.errors import InvalidInputError
from core.leases import lease_free
from core.models import IntegratorAccount
from core.outbox import send_on_commit
from integrator.circuit_breaker import episode_opened_at
from tenants.models import Tenant
from webhooks import signing
from webhooks.errors import EndpointDisabled, EndpointNotFound
from webhooks.events import json_safe, tenant_status_event_type
from webhooks.models import (
    DeliveryStatus,
    Event,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from webhooks.tasks import webhook_delivery_send


def event_record(
    *, tenant: Tenant | None, event_type: str, data: dict, dedupe_key: str | None = None
) -> Event | None:
    """Write an event, and a delivery to each active endpoint that wants it, in the caller's
    transaction; sending starts once that transaction commits (nothing is sent if it rolls
    back, and nothing is lost if a worker dies: the rows are there). Events about the
    deployment rather than a tenant (an orphan found) have no tenant.

    With `dedupe_key`, recording the same key again does nothing and returns None.
    """
    event_type = EventType(event_type)
    # No savepoint of its own: nothing here is caught but the insert's IntegrityError, which
    # has one (each savepoint is a round trip, and a job's end records an event).
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                event = Event.objects.create(
                    event_type=event_type,
                    tenant=tenant,
                    tenant_external_id=tenant.external_id if tenant is not None else "",
                    tenant_incarnation=tenant.incarnation if tenant is not None else None,
                    data=json_safe(data),
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:
            if dedupe_key is not None and Event.objects.filter(dedupe_key=dedupe_key).exists():
                return None
            raise
        now = timezone.now()
        endpoints = [
            endpoint
            for endpoint in WebhookEndpoint.objects.filter(is_active=True)
            if endpoint.wants(event_type)
        ]
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
            for endpoint in endpoints
        )
    for delivery in deliveries:
        send_on_commit(webhook_delivery_send, str(delivery.id))
    return event


def integrator_availability_event_record(
    *, change: str, episode: str, at, failures: int, account_key: str | None = None
) -> Event | None:
    """Record `integrator.unavailable` (the breaker opened) or `integrator.recovered` (it
    closed) for one outage episode of one integrator.io account. Keyed by the account and the
    episode, so however often it is reported, each episode yields one of each. Deployment-wide:
    no tenant; `account` names the account (key, name, region; never its token), so that a
    host with customers on several accounts knows whose integrations wait.

    A recovery whose episode has no `integrator.unavailable` records that first: the call
    that opened the breaker records it in its caller's transaction, and a caller that rolls
    back (its call failed) takes the event with it. The host app never hears of a recovery
    from an outage it was not told of, and hears of both in order."""
    account = _account_or_default(account_key)
    if change == "unavailable":
        return _availability_event_record(
            EventType.INTEGRATOR_UNAVAILABLE, account, episode=episode, at=at, failures=failures
        )
    integrator_unavailable_ensure(
        episode=episode, failures=settings.INTEGRATOR_BREAKER_FAILURES, account_key=account.key
    )
    return _availability_event_record(
        EventType.INTEGRATOR_RECOVERED, account, episode=episode, at=at, failures=failures
    )


def integrator_unavailable_ensure(
    *, episode: str, failures: int, account_key: str | None = None
) -> Event | None:
    """Record the episode's `integrator.unavailable` if it is missing (see above; the webhook
    sweep calls it for each episode a breaker holds open), dated when the episode began."""
    account = _account_or_default(account_key)
    event_type = EventType.INTEGRATOR_UNAVAILABLE
    if Event.objects.filter(dedupe_key=_availability_key(event_type, account, episode)).exists():
        return None
    opened_at = episode_opened_at(episode)
    at = datetime.fromtimestamp(opened_at, tz=UTC) if opened_at is not None else timezone.now()
    return _availability_event_record(
        event_type, account, episode=episode, at=at, failures=failures
    )


def _availability_key(event_type: str, account: IntegratorAccount, episode: str) -> str:
    return f"{event_type}:{account.key}:{episode}"


def _availability_event_record(
    event_type: str, account: IntegratorAccount, *, episode: str, at, failures: int
) -> Event | None:
    return event_record(
        tenant=None,
        event_type=event_type,
        data={
            "episode": episode,
            "at": at,
            "failures": failures,
            "account": {"key": account.key, "name": account.name, "region": account.region},
        },
        dedupe_key=_availability_key(event_type, account, episode),
    )


def _account_or_default(key: str | None) -> IntegratorAccount:
    if key:
        try:
            return integrator_account_get(key=key)
        except IntegratorAccount.DoesNotExist:
            recorded = _account_as_recorded(key)
            if recorded is not None:
                return recorded  # deleted since its outage began: named as it was then
    return integrator_account_default()


def _account_as_recorded(key: str) -> IntegratorAccount | None:
    """A deleted account as its last `integrator.unavailable` named it (unsaved), so that the
    end of its outage names it too, not the default account."""
    data = (
        Event.objects.filter(event_type=EventType.INTEGRATOR_UNAVAILABLE, data__account__key=key)
        .order_by("-created_at")
        .values_list("data", flat=True)
        .first()
    )
    if data is None:
        return None
    named = data["account"]
    return IntegratorAccount(key=key, name=named.get("name", ""), region=named.get("region", ""))


def tenant_status_event_record(*, tenant: Tenant, previous_status: str) -> Event | None:
    """Record the event for the tenant's move from `previous_status` to its current status,
    if that move is one (see `tenant_status_event_type`). Call it in the same transaction as
    the status change. Idempotent per move: it is keyed on the tenant, the new status and
    `status_changed_at`, so two callers reporting the same move make one event.
    """
    event_type = tenant_status_event_type(previous=previous_status, current=tenant.status)
    if event_type is None:
        return None
    changed_at = tenant.status_changed_at
    return event_record(
        tenant=tenant,
        event_type=event_type,
        data={
            "status": tenant.status,
            "previous_status": previous_status,
            "reason": tenant.last_error or None,
            "changed_at": changed_at,
        },
        dedupe_key=f"tenant-status:{tenant.pk}:{tenant.status}:{changed_at.isoformat()}",
    )


def tenant_upgraded_event_record(
    *, tenant: Tenant, job_id, from_version: str, to_version: str, rollout_id=None
) -> Event | None:
    """Record `tenant.upgraded`: the tenant's integration is on another version of its
    template now (an upgrade, or moved back), by the upgrade job `job_id`: a rollout's
    (`rollout_id`, recorded by its driver) or the tenant's own (`POST /tenants/{id}/upgrade`,
    recorded as its job ends; no rollout). Call it in the transaction that records the move.
    Keyed on the job: one event per move, however often it is reported."""
    return event_record(
        tenant=tenant,
        event_type=EventType.TENANT_UPGRADED,
        data={
            "from_version": from_version,
            "to_version": to_version,
            "job": str(job_id),
            "rollout_id": str(rollout_id) if rollout_id is not None else None,
        },
        dedupe_key=f"tenant-upgraded:{job_id}",
    )


# --- endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its secret, returned only where the secret is shown (once)."""

    endpoint: WebhookEndpoint
    secret: str


def endpoint_create(
    *,
    url: str,
    description: str = "",
    event_types: list[str] | None = None,
    is_active: bool = True,
) -> EndpointWithSecret:
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        description=description,
        event_types=_event_types(event_types),
        is_active=is_active,
        secret_salt=signing.secret_salt_new(),
        secret_rotated_at=timezone.now(),
    )
    audit_record(
        action="webhook_endpoint.create",
        target=endpoint,
        after=snapshot(endpoint, _ENDPOINT_FIELDS),
    )
    return EndpointWithSecret(endpoint, signing.endpoint_secret(salt=endpoint.secret_salt))


# What the audit log shows of an endpoint (its secret only as "changed").
_ENDPOINT_FIELDS = ("url", "description", "event_types", "is_active")


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    description: str | None = None,
    event_types: list[str] | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    changed = []
    before = snapshot(endpoint, _ENDPOINT_FIELDS)
    for name, value in (
        ("url", url),
        ("description", description),
        ("event_types", None if event_types is None else _event_types(event_types)),
        ("is_active", is_active),
    ):
        if value is not None and getattr(endpoint, name) != value:
            setattr(endpoint, name, value)
            changed.append(name)
    if changed:
        with transaction.atomic():
            endpoint.save(update_fields=[*changed, "updated_at"])
            audit_record(
                action="webhook_endpoint.update",
                target=endpoint,
                before=before,
                after=snapshot(endpoint, _ENDPOINT_FIELDS),
            )
    return endpoint


# The longest an old secret may keep signing after a rotation (as Stripe allows).
PREVIOUS_SECRET_MAX_EXPIRES_IN = timedelta(days=7)


def endpoint_secret_rotate(
    *, endpoint: WebhookEndpoint, previous_secret_expires_in: timedelta | None = None
) -> EndpointWithSecret:
    """A new secret, signing every attempt from now on. The secret it replaces keeps signing
    too (a second v1 signature) for `previous_secret_expires_in` (by default
    WEBHOOK_SECRET_ROTATION_GRACE_SECONDS), so that deliveries reach a receiver that has not
    deployed the new secret yet; zero stops it at once (a leaked secret). Only that one
    previous secret is kept: a rotation within the window drops the one before it."""
    if previous_secret_expires_in is None:
        previous_secret_expires_in = timedelta(
            seconds=settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS
        )
    if not timedelta(0) <= previous_secret_expires_in <= PREVIOUS_SECRET_MAX_EXPIRES_IN:
        message = (
            "The old secret's expiry must be from 0 to "
            f"{int(PREVIOUS_SECRET_MAX_EXPIRES_IN.total_seconds())} seconds (7 days)."
        )
        raise InvalidInputError(message, fields={"previous_secret_expires_in": [message]})
    with transaction.atomic():
        # The row as it is now, locked: a rotation that committed since `endpoint` was read
        # handed out the secret that must become the previous one (not the one read before).
        pk = endpoint.pk
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=pk).first()
        if endpoint is None:
            raise EndpointNotFound(f"No webhook endpoint with id {str(pk)!r}: it was deleted.")
        # The salts stand for the secrets: the audit log shows only that the secret changed.
        before = {
            "secret": endpoint.secret_salt,
            "secret_rotated_at": endpoint.secret_rotated_at,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        }
        now = timezone.now()
        if previous_secret_expires_in:
            endpoint.previous_secret_salt = endpoint.secret_salt
            endpoint.previous_secret_expires_at = now + previous_secret_expires_in
        else:
            endpoint.previous_secret_salt = ""
            endpoint.previous_secret_expires_at = None
        endpoint.secret_salt = signing.secret_salt_new()
        endpoint.secret_rotated_at = now
        endpoint.save(
            update_fields=[
                "secret_salt",
                "secret_rotated_at",
                "previous_secret_salt",
                "previous_secret_expires_at",
                "updated_at",
            ]
        )
        audit_record(
            action="webhook_endpoint.rotate_secret",
            target=endpoint,
            before=before,
            after={
                "secret": endpoint.secret_salt,
                "secret_rotated_at": endpoint.secret_rotated_at,
                "previous_secret_expires_at": endpoint.previous_secret_expires_at,
            },
        )
    return EndpointWithSecret(endpoint, signing.endpoint_secret(salt=endpoint.secret_salt))


_DELETE_ATTEMPTS = 3


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log (events stay).

    An event recorded at the same moment may add a delivery for the endpoint after the delete
    has read the endpoint's deliveries: PostgreSQL then refuses the delete's commit (the new
    delivery's foreign key, checked at commit). The delete runs again, and takes that
    delivery too. A delivery whose transaction commits only after the delete has committed
    fails on its own side instead; nothing is half-deleted either way.
    """
    for attempt in range(1, _DELETE_ATTEMPTS + 1):
        # A fresh row each time: a delete that did not commit has still cleared the pk of
        # the instance it was given.
        current = WebhookEndpoint.objects.filter(pk=endpoint.pk).first()
        if current is None:
            return  # deleted meanwhile, by this request's retry or another one
        try:
            with transaction.atomic():
                audit_record(
                    action="webhook_endpoint.delete",
                    target=current,
                    before=snapshot(current, _ENDPOINT_FIELDS),
                )
                current.delete()
            return
        except IntegrityError:
            if attempt == _DELETE_ATTEMPTS:
                raise


def _event_types(event_types: list[str] | None) -> list[str]:
    # Stored in a fixed order without duplicates, so that equal lists compare equal.
    types = {EventType(value).value for value in event_types or []}
    if EventType.PING in types:
        # The API and the admin offer no such choice: a ping is sent only on request.
        raise ValueError("ping is no event type to subscribe to")
    return sorted(types)


def endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test event (`ping`) for this endpoint alone, whatever its event types: recorded and
    sent like every event (the same worker, signature, retries and delivery log), about no
    tenant, its data the endpoint's id. Returns its delivery, to be polled. A disabled
    endpoint is refused, as a replay to it is: nothing would be sent (a delivery to a disabled
    endpoint is canceled). Not a change, but like a replay it has the service send a signed
    request on someone's behalf, so the audit log records who asked (webhook_endpoint.ping)."""
    with transaction.atomic():
        # The row locked, as it is now: disabled or deleted since it was read, it is not pinged
        # (and a delete waits until the delivery is there to be deleted with it).
        current = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
        if current is None:
            raise EndpointNotFound(
                f"No webhook endpoint with id {str(endpoint.pk)!r}: it was deleted."
            )
        if not current.is_active:
            raise EndpointDisabled(
                "The endpoint is disabled: nothing is sent to it. Enable it first "
                "(is_active: true), then ping it."
            )
        event = Event.objects.create(
            event_type=EventType.PING, tenant=None, data={"endpoint_id": str(current.pk)}
        )
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=current, next_attempt_at=timezone.now()
        )
        audit_record(
            action="webhook_endpoint.ping",
            target=current,
            after={"event": event.pk, "delivery": delivery.pk},
        )
        send_on_commit(webhook_delivery_send, str(delivery.id))
    return delivery


# --- deliveries ---------------------------------------------------------------------------


def delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event to its endpoint again, as a new delivery (same event id, so
    a receiver that dedupes sees it as the same event). Any final delivery may be replayed.

    A pending one (waiting for its next retry) is not copied: it becomes due now and is
    sent, and the same delivery is returned. Its lease keeps it sent once: a worker sending
    it already holds it, and the message of its scheduled retry then finds it not due."""
    if not delivery.endpoint.is_active:
        # Refused as a ping to it is (the same code): nothing is sent to a disabled endpoint.
        raise EndpointDisabled(
            "The endpoint is disabled: nothing is sent to it. Enable it first "
            "(is_active: true), then replay the delivery."
        )
    if delivery.status == DeliveryStatus.PENDING:
        return _delivery_send_now(delivery)
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            event_id=delivery.event_id,
            endpoint_id=delivery.endpoint_id,
            next_attempt_at=timezone.now(),
            replay_of=delivery,
        )
        audit_record(
            action="webhook_delivery.replay",
            target=delivery,
            after={"replay": replay.pk, "event": delivery.event_id},
        )
        send_on_commit(webhook_delivery_send, str(replay.id))
    return replay


def _delivery_send_now(delivery: WebhookDelivery) -> WebhookDelivery:
    now = timezone.now()
    with transaction.atomic():
        # Due now if it waits for a retry; and if a worker is sending it at this moment, its
        # due time moves too: should that attempt fail, the worker sees the move and makes the
        # next one due at once instead of after its backoff (webhooks.delivery._finish).
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).filter(
            Q(next_attempt_at__gt=now) | ~lease_free(now=now)
        ).update(next_attempt_at=now)
        audit_record(
            action="webhook_delivery.send_now",
            target=delivery,
            after={"event": delivery.event_id},
        )
        send_on_commit(webhook_delivery_send, str(delivery.id))
    delivery.refresh_from_db()
    return delivery

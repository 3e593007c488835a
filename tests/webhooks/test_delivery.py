"""Deliveries through a real worker to a local receiver: signed, once, retried, never lost."""

import json
import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from tenants.models import IntegrationTemplate, Tenant, TenantStatus
from tests.fixtures.factories import current_version
from tests.fixtures.live_tenants import wait_for
from tests.fixtures.metrics import recorded, total
from tests.webhooks.receiver import Answer, Receiver
from webhooks import services, signing
from webhooks.delivery import lease_seconds
from webhooks.models import DeliveryStatus, Event, EventType, WebhookDelivery
from webhooks.tasks import webhook_deliveries_sweep

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant(live_settings):
    template = IntegrationTemplate.objects.create(
        key="hooks", name="Hooks", source_integration_id="5eed00000000000000000a01"
    )
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
        status=TenantStatus.ACTIVE,
    )


def _final(delivery_id, timeout=20.0) -> WebhookDelivery:
    def settled():
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        return delivery if delivery.status != DeliveryStatus.PENDING else None

    delivery = wait_for(settled, timeout=timeout)
    assert delivery is not None, "the delivery never settled"
    return delivery


def test_it_delivers_each_event_once_with_a_valid_signature(tenant, receiver, live_worker):
    created = services.endpoint_create(url=receiver.url)
    with transaction.atomic():
        events = [
            services.event_record(
                tenant=tenant, event_type=EventType.RUN_FAILED, data={"run_id": f"j{n}"}
            )
            for n in range(3)
        ]
        assert not receiver.received  # nothing leaves before the commit

    for event in events:
        assert _final(event.deliveries.get().pk).status == DeliveryStatus.DELIVERED
    time.sleep(0.5)  # a duplicate would have arrived by now

    assert sorted(receiver.event_ids()) == sorted(str(event.id) for event in events)
    for request in receiver.received:
        assert signing.signature_verify(
            secret=created.secret, header=request.headers["Webhook-Signature"], body=request.body
        )
        assert request.headers["Webhook-Timestamp"] in request.headers["Webhook-Signature"]
        body = json.loads(request.body)
        assert body["type"] == "run.failed"
        assert body["tenant"] == {"external_id": "acme", "incarnation": 1}
        assert body["id"] == request.headers["Webhook-Id"]
    assert not signing.signature_verify(
        secret="whsec_wrong",
        header=receiver.received[0].headers["Webhook-Signature"],
        body=receiver.received[0].body,
    )


def test_each_incarnations_events_say_which_incarnation_they_are_about(
    tenant, receiver, live_worker
):
    # The customer left and came back under the same external_id: a new incarnation. An
    # event of the old one that arrives late must not be taken for the new one's.
    services.endpoint_create(url=receiver.url)
    Tenant.objects.filter(pk=tenant.pk).update(
        status=TenantStatus.DEPROVISIONED, superseded_at=timezone.now()
    )
    again = Tenant.objects.create(
        external_id="acme",
        incarnation=2,
        name="Acme",
        template=tenant.template,
        template_version=tenant.template_version,
    )
    old = services.event_record(
        tenant=tenant, event_type=EventType.TENANT_DEPROVISIONED, data={"status": "deprovisioned"}
    )
    new = services.event_record(tenant=again, event_type=EventType.RUN_FAILED, data={})
    deployment = services.event_record(tenant=None, event_type=EventType.ROLLOUT_STARTED, data={})
    for event in (old, new, deployment):
        assert _final(event.deliveries.get().pk).status == DeliveryStatus.DELIVERED

    bodies = {body["id"]: body for body in map(json.loads, (r.body for r in receiver.received))}
    assert bodies[str(old.id)]["tenant"] == {"external_id": "acme", "incarnation": 1}
    assert bodies[str(new.id)]["tenant"] == {"external_id": "acme", "incarnation": 2}
    assert bodies[str(deployment.id)]["tenant"] is None
    # Once the old row is gone, its events still say which incarnation they were about.
    Event.objects.filter(pk=old.pk).update(tenant=None)
    replayed = services.delivery_replay(delivery=old.deliveries.get())
    assert _final(replayed.pk).status == DeliveryStatus.DELIVERED
    last = json.loads(receiver.received[-1].body)
    assert last["tenant"] == {"external_id": "acme", "incarnation": 1}


def test_it_retries_a_receiver_that_answers_500_then_200(tenant, receiver, live_worker):
    receiver.script = [Answer(status=500, body=b"boom")]
    services.endpoint_create(url=receiver.url)

    event = services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})
    delivery = _final(event.deliveries.get().pk)

    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert [a.status_code for a in delivery.log.all()] == [500, 200]
    assert delivery.log.all()[0].error == "HTTP 500: boom"
    assert receiver.event_ids() == [str(event.id)] * 2


def test_it_waits_as_long_as_retry_after_asks(tenant, receiver, live_worker):
    receiver.script = [Answer(status=429, headers={"Retry-After": "2"})]
    services.endpoint_create(url=receiver.url)

    event = services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})

    assert _final(event.deliveries.get().pk).status == DeliveryStatus.DELIVERED
    first, second = receiver.received
    assert second.at - first.at >= 1.9


def test_it_dead_letters_after_the_last_attempt(tenant, live_worker, live_settings):
    server = Receiver(default=Answer(status=503))
    try:
        services.endpoint_create(url=server.url)
        event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
        delivery = _final(event.deliveries.get().pk)
    finally:
        server.stop()

    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == live_settings.WEBHOOK_MAX_ATTEMPTS == len(server.received)
    assert "Gave up after 4 attempts" in delivery.last_error


def test_it_fails_at_once_when_the_receiver_refuses_the_event(tenant, receiver, live_worker):
    receiver.script = [Answer(status=410, body=b"gone")]
    services.endpoint_create(url=receiver.url)

    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = _final(event.deliveries.get().pk)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 410


def test_it_sends_nothing_when_the_transaction_rolls_back(tenant, receiver, live_worker):
    services.endpoint_create(url=receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})
        raise RuntimeError("the change failed")
    kept = services.event_record(tenant=tenant, event_type=EventType.TENANT_ACTIVE, data={})

    assert _final(kept.deliveries.get().pk).status == DeliveryStatus.DELIVERED
    assert Event.objects.count() == 1
    assert receiver.event_ids() == [str(kept.id)]


def test_it_loses_nothing_when_the_worker_is_killed_mid_delivery(
    tenant, receiver, live_worker, worker_factory
):
    released = threading.Event()
    receiver.script = [Answer(status=200, hold=released)]
    # Only the tenant's events: the sweep below also announces any integrator.io outage that
    # an earlier test left open in this run's Redis, which is not this test's delivery.
    services.endpoint_create(url=receiver.url, event_types=[EventType.TENANT_FAILED])
    live_worker.stop()  # only the worker this test kills may take the delivery
    try:
        doomed = worker_factory()
        doomed.start()
        event = services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})
        assert receiver.arrived.wait(20), "the delivery never reached the receiver"
        doomed.kill()
        released.set()
        delivery = WebhookDelivery.objects.get(event=event)
        assert delivery.status == DeliveryStatus.PENDING  # the worker died before recording

        survivor = worker_factory()
        survivor.start()
        # Beat's sweep, once the dead worker's lease has run out.
        wait_for(lambda: timezone.now() > delivery.lease_expires_at, timeout=lease_seconds() + 2)
        webhook_deliveries_sweep.delay(grace_seconds=0)
        delivery = _final(delivery.pk)
    finally:
        live_worker.restart()

    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert receiver.event_ids() == [str(event.id)] * 2  # at least once: same Webhook-Id


def test_it_replays_a_delivery_with_the_same_event_id(tenant, receiver, live_worker):
    services.endpoint_create(url=receiver.url)
    event = services.event_record(tenant=tenant, event_type=EventType.TENANT_ACTIVE, data={})
    first = _final(event.deliveries.get().pk)

    replay = services.delivery_replay(delivery=first)

    assert _final(replay.pk).status == DeliveryStatus.DELIVERED
    assert replay.replay_of_id == first.pk
    assert receiver.event_ids() == [str(event.id)] * 2


def test_it_never_writes_the_secret_to_the_worker_log(tenant, receiver, live_worker):
    receiver.script = [Answer(status=500)]
    created = services.endpoint_create(url=receiver.url)
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    _final(event.deliveries.get().pk)

    log = live_worker.log_path.read_text(errors="replace")
    assert "webhooks.delivery_send" in log  # the right log, and it has the delivery's lines
    assert created.secret not in log


def test_the_worker_counts_each_attempt_and_the_delivered_event_lag(
    tenant, receiver, live_worker, metrics_dir
):
    receiver.script = [Answer(status=500, body=b"boom")]
    services.endpoint_create(url=receiver.url)
    before = recorded(metrics_dir)

    event = services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})

    def delivered():
        delivery = WebhookDelivery.objects.get(event=event)
        return delivery.status == DeliveryStatus.DELIVERED

    assert wait_for(delivered)

    def counted():
        # The worker counts the attempt just after recording it: a moment after the row.
        now = recorded(metrics_dir)
        lag = "eis_webhook_delivery_lag_seconds_count"
        return now if total(now, lag) > total(before, lag) else None

    after = wait_for(counted, timeout=5)
    assert after is not None

    def delta(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    name = "eis_webhook_delivery_attempts_total"
    assert delta(name, outcome="retry") == 1
    assert delta(name, outcome="delivered") == 1
    assert delta(name, outcome="dead") == 0
    assert delta("eis_webhook_delivery_lag_seconds_count") == 1
    # The lag runs from the event to the 2xx: at least the retry's backoff.
    assert delta("eis_webhook_delivery_lag_seconds_sum") > 0

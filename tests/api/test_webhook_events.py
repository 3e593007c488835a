"""/api/v1/webhooks/events: the outbox, every event recorded, for a host app that catches up
(its endpoint was down, disabled, or there was none yet when the events were recorded)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.fields import DateTimeField

from api.scopes import ALL_SCOPES, Scope
from tenants.connect_links import connect_link_create, connect_link_token
from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from tests.fixtures.personas import client_with_key, key_with_scopes
from webhooks import services
from webhooks.events import event_body
from webhooks.models import DeliveryStatus, Event, EventType, WebhookDelivery
from webhooks.retention import webhook_records_purge

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/webhooks/events"


@pytest.fixture
def tenant():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )


def _record(tenant, event_type=EventType.RUN_FAILED, data=None, *, at=None) -> Event:
    event = services.event_record(tenant=tenant, event_type=event_type, data=data or {})
    if at is not None:
        Event.objects.filter(pk=event.pk).update(created_at=at)
        event.refresh_from_db()
    return event


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def _time(moment) -> str:
    return DateTimeField().to_representation(moment)


def test_it_lists_events_no_endpoint_received_newest_first_a_page_at_a_time(api, tenant):
    # No endpoint at all when they were recorded: no delivery, and the list still has them.
    now = timezone.now()
    events = [_record(tenant, at=now - timedelta(minutes=n)) for n in range(5)]
    assert not WebhookDelivery.objects.exists()

    first = api.get(EVENTS, {"limit": 2})
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])

    assert _ids(first) + _ids(second) + _ids(third) == [str(event.id) for event in events]
    assert first.json()["previous"] is None
    assert third.json()["next"] is None
    item = first.json()["results"][0]
    assert item == {
        "id": str(events[0].id),
        "type": "run.failed",
        "tenant": "acme",
        "incarnation": 1,
        "data": {},
        "created_at": _time(events[0].created_at),
        "delivery_counts": {
            "total": 0,
            "pending": 0,
            "delivered": 0,
            "failed": 0,
            "dead": 0,
            "canceled": 0,
        },
    }


def test_events_recorded_at_the_same_moment_come_in_a_stable_order(api, tenant):
    at = timezone.now()
    events = [_record(tenant, at=at) for _ in range(3)]

    first = api.get(EVENTS, {"limit": 2})
    second = api.get(first.json()["next"])

    expected = sorted((str(event.id) for event in events), reverse=True)
    assert _ids(first) + _ids(second) == expected


def test_each_event_counts_its_deliveries_by_status(api, tenant):
    services.endpoint_create(url="https://a.example.com/h")
    services.endpoint_create(url="https://b.example.com/h")
    event = _record(tenant)
    first, second = event.deliveries.order_by("endpoint__url")
    WebhookDelivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.DEAD)
    WebhookDelivery.objects.filter(pk=second.pk).update(status=DeliveryStatus.DELIVERED)
    first.refresh_from_db()
    replay = services.delivery_replay(delivery=first)

    (listed,) = api.get(EVENTS).json()["results"]

    assert replay.status == DeliveryStatus.PENDING
    assert listed["delivery_counts"] == {
        "total": 3,
        "pending": 1,
        "delivered": 1,
        "failed": 0,
        "dead": 1,
        "canceled": 0,
    }


def test_it_filters_by_event_type(api, tenant):
    failed = _record(tenant, EventType.TENANT_FAILED)
    _record(tenant, EventType.RUN_FAILED)

    assert _ids(api.get(EVENTS, {"event_type": "tenant.failed"})) == [str(failed.id)]
    assert _ids(api.get(EVENTS, {"event_type": "orphan.found"})) == []


def test_it_filters_by_tenant_with_its_earlier_incarnations(api, tenant):
    now = timezone.now()
    # The events of an earlier acme (deprovisioned, its row gone) still name it.
    earlier = Event.objects.create(
        event_type=EventType.TENANT_DEPROVISIONED,
        tenant=None,
        tenant_external_id="acme",
        tenant_incarnation=1,
    )
    Event.objects.filter(pk=earlier.pk).update(created_at=now - timedelta(days=2))
    Tenant.objects.filter(pk=tenant.pk).update(incarnation=2)
    tenant.refresh_from_db()
    current = _record(tenant, at=now)
    other = Tenant.objects.create(
        external_id="globex",
        name="Globex",
        template=tenant.template,
        template_version=tenant.template_version,
    )
    _record(other, at=now)

    listed = api.get(EVENTS, {"tenant": "acme"})

    assert _ids(listed) == [str(current.id), str(earlier.id)]
    assert [item["incarnation"] for item in listed.json()["results"]] == [2, 1]
    assert _ids(api.get(EVENTS, {"tenant": "nobody"})) == []


def test_it_filters_by_time(api, tenant):
    now = timezone.now().replace(microsecond=0)
    old = _record(tenant, at=now - timedelta(hours=2))
    middle = _record(tenant, at=now - timedelta(hours=1))
    new = _record(tenant, at=now)

    since = api.get(EVENTS, {"since": _time(now - timedelta(hours=1))})
    until = api.get(EVENTS, {"until": _time(now - timedelta(hours=1))})
    both = api.get(EVENTS, {"since": _time(old.created_at), "until": _time(new.created_at)})

    assert _ids(since) == [str(new.id), str(middle.id)]  # `since` is inclusive
    assert _ids(until) == [str(old.id)]  # `until` is not
    assert _ids(both) == [str(middle.id), str(old.id)]


def test_filters_combine(api, tenant):
    now = timezone.now()
    wanted = _record(tenant, EventType.TENANT_FAILED, at=now)
    _record(tenant, EventType.TENANT_FAILED, at=now - timedelta(days=1))
    _record(tenant, EventType.RUN_FAILED, at=now)
    _record(None, EventType.TENANT_FAILED, at=now)

    listed = api.get(
        EVENTS,
        {"tenant": "acme", "event_type": "tenant.failed", "since": _time(now - timedelta(hours=1))},
    )

    assert _ids(listed) == [str(wanted.id)]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"event_type": "run.exploded"}, "event_type", "Not an event type; one of tenant.active,"),
        ({"since": "yesterday"}, "since", "Datetime has wrong format"),
        ({"until": "2026-13-01T00:00:00Z"}, "until", "Datetime has wrong format"),
        # A `+` sent as typed arrives as a space.
        ({"since": "2026-12-01T10:00:00 01:00"}, "since", "%2B"),
        (
            {"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
            "until",
            "Must not be earlier than `since`.",
        ),
        ({"tenant": ""}, "tenant", "Empty"),
        ({"tenant": "x" * 129}, "tenant", "128"),
        ({"type": "run.failed"}, "type", "Unknown query parameter"),
        ({"created_after": "2026-12-01T00:00:00Z"}, "created_after", "since, until"),
        ({"cursor": "garbage"}, "cursor", "Not a cursor this API made"),
        ({"limit": "0"}, "limit", "A whole number from 1 to 100."),
    ],
)
def test_it_refuses_a_bad_filter_naming_it(api, query, field, words):
    response = api.get(EVENTS, query)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_fields"
    assert list(error["fields"]) == [field]
    assert words in error["fields"][field][0]


def test_an_unknown_event_type_is_answered_with_every_type_it_takes(api):
    message = api.get(EVENTS, {"event_type": "run.exploded"}).json()["error"]["fields"][
        "event_type"
    ][0]

    for event_type in EventType.values:
        assert event_type in message


def test_an_event_about_the_deployment_names_no_tenant(api, tenant):
    unavailable = _record(
        None,
        EventType.INTEGRATOR_UNAVAILABLE,
        {"episode": "e1", "at": timezone.now(), "failures": 5, "account": {"key": "default"}},
    )

    (listed,) = api.get(EVENTS).json()["results"]
    shown = api.get(f"{EVENTS}/{unavailable.id}").json()

    assert listed["type"] == shown["type"] == "integrator.unavailable"
    assert listed["tenant"] is None and listed["incarnation"] is None
    assert shown["tenant"] is None and shown["incarnation"] is None
    assert listed["data"]["episode"] == "e1"
    # `tenant` filters on the tenant's external id: a deployment's events have none.
    assert _ids(api.get(EVENTS, {"tenant": "acme"})) == []


def test_its_data_is_what_the_body_sent_carries(api, tenant):
    """A `connection.failed` stores its reconnect link's id only; the body sent carries the
    link's URL (webhooks.events). The list shows the body's data, not the stored row's."""
    link = connect_link_create(tenant=tenant).link
    event = _record(
        tenant,
        EventType.CONNECTION_FAILED,
        {"slot": "shop", "reconnect_link_id": str(link.id), "reconnect_expires_at": None},
    )
    sent = json.loads(event_body(event=event))

    (listed,) = api.get(EVENTS).json()["results"]
    shown = api.get(f"{EVENTS}/{event.id}").json()

    assert sent["data"]["reconnect_url"].endswith(f"/connect/{connect_link_token(link)}/")
    assert listed["data"] == shown["data"] == sent["data"]
    assert listed["id"] == sent["id"]
    assert listed["type"] == sent["type"]
    assert listed["tenant"] == sent["tenant"]["external_id"]
    assert listed["incarnation"] == sent["tenant"]["incarnation"]


def test_it_shows_one_event_with_its_deliveries(api, tenant):
    first_endpoint = services.endpoint_create(url="https://a.example.com/h").endpoint
    second_endpoint = services.endpoint_create(url="https://b.example.com/h").endpoint
    event = _record(tenant, EventType.RUN_FAILED, {"run_id": "r1"})
    to_first = event.deliveries.get(endpoint=first_endpoint)
    WebhookDelivery.objects.filter(pk=to_first.pk).update(status=DeliveryStatus.DEAD)
    to_first.refresh_from_db()
    replay = services.delivery_replay(delivery=to_first)
    _record(tenant)  # another event's deliveries are not this one's

    shown = api.get(f"{EVENTS}/{event.id}")
    with_slash = api.get(f"{EVENTS}/{event.id}/")

    assert shown.status_code == 200, shown.content
    assert with_slash.json() == shown.json()
    body = shown.json()
    assert body["id"] == str(event.id)
    assert body["data"] == {"run_id": "r1"}
    assert body["delivery_counts"]["total"] == 3
    deliveries = {d["id"]: d for d in body["deliveries"]}
    assert set(deliveries) == {str(d.id) for d in event.deliveries.all()}
    assert deliveries[str(to_first.id)]["status"] == "dead"
    assert deliveries[str(to_first.id)]["endpoint"] == str(first_endpoint.id)
    assert deliveries[str(replay.id)] | {"created_at": None} == {
        "id": str(replay.id),
        "endpoint": str(first_endpoint.id),
        "status": "pending",
        "attempts": 0,
        "replay_of": str(to_first.id),
        "created_at": None,
    }
    to_second = event.deliveries.get(endpoint=second_endpoint)
    assert deliveries[str(to_second.id)]["status"] == "pending"
    assert body["deliveries"][0]["id"] == str(replay.id)  # newest first


@pytest.mark.parametrize(
    "event_id",
    [
        str(uuid.uuid4()),  # no such event
        "not-an-id",
        "123",
        "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0",  # one digit short
        "%00",
    ],
)
def test_an_unknown_or_malformed_event_id_is_a_404_in_the_api_error_shape(api, event_id):
    response = api.get(f"{EVENTS}/{event_id}")

    assert response.status_code == 404, response.content
    error = response.json()["error"]
    assert error["code"] == "webhook_event_not_found"
    assert "No webhook event with id" in error["message"]


def test_an_event_purged_since_is_a_404(api, tenant):
    event = _record(tenant, at=timezone.now() - timedelta(days=31))
    assert api.get(f"{EVENTS}/{event.id}").status_code == 200

    webhook_records_purge()

    assert api.get(f"{EVENTS}/{event.id}").status_code == 404
    assert _ids(api.get(EVENTS)) == []


def test_a_key_without_the_webhooks_scope_is_refused(tenant):
    event = _record(tenant)
    others = [scope for scope in ALL_SCOPES if scope != Scope.WEBHOOKS_MANAGE]
    reader = client_with_key(key_with_scopes(*others))
    webhooks_only = client_with_key(key_with_scopes(Scope.WEBHOOKS_MANAGE))

    for path in (EVENTS, f"{EVENTS}/{event.id}"):
        refused = reader.get(path)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "insufficient_scope"
        assert "`webhooks:manage`" in refused.json()["error"]["message"]
        # The scope that reads deliveries reads events.
        assert webhooks_only.get(path).status_code == 200, path


def _page_queries(api, query=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(EVENTS, query or {})
    assert response.status_code == 200, response.content
    return len(queries)


def _detail_queries(api, event) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{EVENTS}/{event.id}")
    assert response.status_code == 200, response.content
    return len(queries)


def test_a_page_costs_the_same_queries_however_many_events_and_deliveries_it_shows(api, tenant):
    """The data as sent (a reconnect link read for each connection.failed) and each event's
    delivery counts are read once for the page, not once an event."""

    def connection_failed():
        link = connect_link_create(tenant=tenant).link
        return _record(
            tenant,
            EventType.CONNECTION_FAILED,
            {"slot": "shop", "reconnect_link_id": str(link.id)},
        )

    first = connection_failed()
    _record(tenant)
    api.get(EVENTS)  # the key's first use is recorded once, not on every request
    few = _page_queries(api)
    one = _detail_queries(api, first)

    for n in range(3):
        services.endpoint_create(url=f"https://{n}.example.com/h")
    for _ in range(6):
        event = connection_failed()
        _record(tenant)
        _record(None, EventType.ROLLOUT_STARTED)
    dead = event.deliveries.first()
    WebhookDelivery.objects.filter(pk=dead.pk).update(status=DeliveryStatus.DEAD)
    dead.refresh_from_db()
    services.delivery_replay(delivery=dead)
    assert WebhookDelivery.objects.count() == 3 * 18 + 1
    many = _page_queries(api)
    filtered = _page_queries(api, {"tenant": "acme", "limit": 100})

    assert len(api.get(EVENTS).json()["results"]) == 20
    assert many == few
    assert filtered == few
    assert _detail_queries(api, event) == one


def test_the_document_describes_both_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    listed = schema["paths"]["/api/v1/webhooks/events"]["get"]
    shown = schema["paths"]["/api/v1/webhooks/events/{event_id}"]["get"]

    for operation in (listed, shown):
        assert operation["x-required-scope"] == "webhooks:manage"
        assert operation["tags"] == ["webhooks"]
        assert operation["responses"]["200"]["content"]["application/json"]["examples"]
    names = {p["name"] for p in listed["parameters"]}
    assert names == {"event_type", "tenant", "since", "until", "cursor", "limit"}
    assert "`webhook_event_not_found`" in shown["responses"]["404"]["description"]
    assert "dead-lettered" in listed["description"]
    components = schema["components"]["schemas"]
    item = components["WebhookOutboxEventOutput"]["properties"]
    assert item["type"] == {"$ref": "#/components/schemas/EventTypeEnum"}
    assert item["tenant"]["type"] == ["string", "null"]
    assert "body sent" in item["data"]["description"]
    detail = components["WebhookOutboxEventDetailOutput"]["properties"]
    assert detail["deliveries"]["type"] == "array"

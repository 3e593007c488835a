"""/api/v1/webhooks/endpoints/ and /api/v1/webhooks/deliveries/."""

import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.db.models.signals import pre_delete
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from webhooks import services, signing
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhooks/endpoints/"
DELIVERIES = "/api/v1/webhooks/deliveries/"


@pytest.fixture
def api() -> APIClient:
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def tenant():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )


def test_it_shows_the_secret_only_when_creating_or_rotating(api):
    created = api.post(
        ENDPOINTS,
        {"url": "https://app.example.com/hooks", "event_types": ["run.failed", "tenant.failed"]},
        format="json",
    )
    endpoint_id = created.json()["id"]
    secret = created.json()["secret"]
    url = f"{ENDPOINTS}{endpoint_id}/"

    assert created.status_code == 201
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert signing.endpoint_secret(salt=endpoint.secret_salt) == secret
    assert secret not in str(WebhookEndpoint.objects.values().get())  # not stored
    for response in (
        api.get(url),
        api.get(ENDPOINTS),
        api.patch(url, {"description": "x"}, format="json"),
    ):
        assert response.status_code == 200
        text = response.content.decode()
        for moment in ("secret_rotated_at", "previous_secret_expires_at"):
            text = text.replace(moment, "")  # when, never what
        assert "secret" not in text
        assert secret not in response.content.decode()

    rotated = api.post(f"{url}rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != secret


def test_it_updates_pauses_and_deletes_an_endpoint(api):
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint
    url = f"{ENDPOINTS}{endpoint.id}/"

    changed = api.patch(
        url,
        {"url": "https://app.example.com/b", "is_active": False, "event_types": []},
        format="json",
    )
    deleted = api.delete(url)

    assert changed.json()["url"] == "https://app.example.com/b"
    assert changed.json()["is_active"] is False
    assert deleted.status_code == 204
    assert api.get(url).status_code == 404


def test_it_refuses_bad_endpoints_in_the_api_error_shape(api):
    bad = api.post(
        ENDPOINTS, {"url": "ftp://x.example.com", "event_types": ["run.exploded"]}, format="json"
    )
    unknown_field = api.post(
        ENDPOINTS, {"url": "https://a.example.com", "secret": "mine"}, format="json"
    )

    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"url", "event_types.0"}
    assert unknown_field.status_code == 400
    assert "secret" in unknown_field.json()["error"]["fields"]
    # What the URL pattern leaves out on purpose is named, not "Enter an absolute URL".
    with_password = api.post(ENDPOINTS, {"url": "https://me:pw@hooks.example.com/x"}, format="json")
    assert with_password.status_code == 400
    assert "user name or password" in with_password.json()["error"]["fields"]["url"][0]
    ipv6 = api.post(ENDPOINTS, {"url": "http://[::1]:9000/hooks"}, format="json")
    assert "IPv6" in ipv6.json()["error"]["fields"]["url"][0]
    port = api.post(ENDPOINTS, {"url": "https://hooks.example.com:99999/x"}, format="json")
    assert port.json()["error"]["fields"]["url"] == [
        "Enter a port from 1 to 65535 (not 99999), or none."
    ]
    label = api.post(ENDPOINTS, {"url": "https://hooks..example.com/x"}, format="json")
    assert "1 to 63 characters" in label.json()["error"]["fields"]["url"][0]
    for path in (f"{ENDPOINTS}not-a-uuid/", f"{ENDPOINTS}00000000-0000-0000-0000-000000000000/"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "webhook_endpoint_not_found"


def test_it_lists_deliveries_with_filters(api, tenant):
    first = services.endpoint_create(url="https://a.example.com/h").endpoint
    services.endpoint_create(url="https://b.example.com/h", event_types=["tenant.failed"])
    services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={"run_id": "j"})
    services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})

    everything = api.get(DELIVERIES).json()["results"]
    to_first = api.get(DELIVERIES, {"endpoint": str(first.id)}).json()["results"]
    runs = api.get(DELIVERIES, {"event_type": "run.failed", "tenant": "acme"}).json()["results"]
    bad = api.get(DELIVERIES, {"status": "lost"})

    assert len(everything) == 3  # run.failed to one endpoint, tenant.failed to both
    assert len(to_first) == 2
    assert [d["event"]["data"] for d in runs] == [{"run_id": "j"}]
    assert runs[0]["status"] == "pending"
    assert bad.status_code == 400


def test_it_finds_an_events_deliveries_by_the_webhook_id_a_receiver_logged(api, tenant):
    # A receiver logs the Webhook-Id of a request it could not process; the log could not be
    # filtered by it, only read page by page.
    services.endpoint_create(url="https://a.example.com/h")
    services.endpoint_create(url="https://b.example.com/h")
    wanted = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})

    found = api.get(DELIVERIES, {"event": str(wanted.id)}).json()["results"]
    bad = api.get(DELIVERIES, {"event": "not-an-id"})

    assert len(found) == 2  # one per endpoint
    assert {d["event"]["id"] for d in found} == {str(wanted.id)}
    assert bad.status_code == 400 and "event" in bad.json()["error"]["fields"]


def test_a_deliverys_event_names_no_tenant_as_the_webhook_body_does(api, tenant):
    # The body sent says `"tenant": null` for an event about the deployment (a rollout, an
    # orphan, integrator.io); the delivery log says the same, not "", and a tenant's event
    # names its external id.
    services.endpoint_create(url="https://a.example.com/h")
    services.event_record(tenant=None, event_type=EventType.ROLLOUT_STARTED, data={})
    services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})

    events = {d["event"]["type"]: d["event"] for d in api.get(DELIVERIES).json()["results"]}

    assert events["rollout.started"]["tenant"] is None
    assert events["rollout.started"]["incarnation"] is None
    assert events["run.failed"]["tenant"] == "acme"
    assert events["run.failed"]["incarnation"] == tenant.incarnation == 1


def test_the_document_says_a_deliverys_next_attempt_is_a_time():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    field = components["WebhookDeliveryOutput"]["properties"]["next_attempt_at"]
    tenant = components["WebhookEventOutput"]["properties"]["tenant"]

    assert field["type"] == ["string", "null"] and field["format"] == "date-time"
    assert tenant["type"] == ["string", "null"]


def test_replaying_a_pending_delivery_makes_it_due_now(api, tenant):
    """A delivery waiting for its next retry was refused (409, 'it will be attempted again on
    its own'), though the host developer who just fixed their receiver wants it now."""
    services.endpoint_create(url="https://a.example.com/h")
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()
    later = timezone.now() + timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=2, next_attempt_at=later)

    sent = api.post(f"{DELIVERIES}{delivery.id}/replay")

    assert sent.status_code == 202, sent.json()
    assert sent.json()["id"] == str(delivery.id), "the same delivery, not a second one"
    assert sent.json()["replay_of"] is None
    assert event.deliveries.count() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at <= timezone.now()
    assert delivery.attempts == 2


def test_it_replays_a_finished_delivery_as_a_new_one(api, tenant):
    services.endpoint_create(url="https://a.example.com/h")
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()

    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD)
    replayed = api.post(f"{DELIVERIES}{delivery.id}/replay")
    detail = api.get(f"{DELIVERIES}{delivery.id}/")

    assert replayed.status_code == 202
    assert replayed.json()["replay_of"] == str(delivery.id)
    assert replayed.json()["event"]["id"] == str(event.id)
    assert detail.json()["log"] == []


@pytest.mark.django_db(transaction=True)
def test_it_deletes_an_endpoint_while_a_delivery_for_it_is_being_recorded(api, tenant):
    """An event recorded for the endpoint (another connection, committed) after the delete
    has collected the endpoint's deliveries and before it commits: PostgreSQL checks the
    delivery's foreign key at the delete's commit, which failed with an IntegrityError (a
    500). The delete must take the new delivery too."""
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    inserted = []

    def record_a_delivery_elsewhere(sender, instance, **kwargs):
        if inserted:
            return
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO webhooks_webhookdelivery (id, event_id, endpoint_id, status, "
                    "attempts, next_attempt_at, last_error, created_at, lease_generation) "
                    "VALUES (%s, %s, %s, 'pending', 0, now(), '', now(), 0)",
                    [str(uuid.uuid4()), str(event.id), str(instance.pk)],
                )
            inserted.append(True)
        finally:
            other.close()

    pre_delete.connect(record_a_delivery_elsewhere, sender=WebhookEndpoint)
    try:
        response = api.delete(f"{ENDPOINTS}{endpoint.id}")
    finally:
        pre_delete.disconnect(record_a_delivery_elsewhere, sender=WebhookEndpoint)

    assert inserted
    assert response.status_code == 204, response.content
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(endpoint_id=endpoint.pk).exists()


def test_a_disabled_endpoint_misses_the_events_recorded_meanwhile_and_the_document_says_so(
    api, tenant
):
    # Disabling is no pause: nothing is held for the endpoint, so enabling it again sends
    # nothing of what happened meanwhile. A host app that reads "pause" would lose events.
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint
    api.patch(f"{ENDPOINTS}{endpoint.id}/", {"is_active": False}, format="json")
    services.event_record(tenant=tenant, event_type=EventType.TENANT_ACTIVE, data={})
    api.patch(f"{ENDPOINTS}{endpoint.id}/", {"is_active": True}, format="json")
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()

    schema = SchemaGenerator().get_schema(request=None, public=True)
    patch = schema["paths"]["/api/v1/webhooks/endpoints/{endpoint_id}"]["patch"]
    field = schema["components"]["schemas"]["PatchedWebhookEndpointUpdateInputRequest"][
        "properties"
    ]
    for text in (patch["description"], field["is_active"]["description"]):
        assert "pause it" not in text
        assert "not sent to it later" in text


def test_a_rotation_keeps_the_old_secret_for_a_day_and_says_until_when(api, settings):
    settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS = 86400
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint
    url = f"{ENDPOINTS}{endpoint.id}/"
    assert api.get(url).json()["previous_secret_expires_at"] is None

    rotated = api.post(f"{url}rotate-secret")
    shown = api.get(url)

    assert rotated.status_code == 200
    endpoint.refresh_from_db()
    expires_at = endpoint.secret_rotated_at + timedelta(days=1)
    assert endpoint.previous_secret_expires_at == expires_at
    assert rotated.json()["previous_secret_expires_at"] == DateTimeField().to_representation(
        expires_at
    )
    assert (
        shown.json()["previous_secret_expires_at"] == rotated.json()["previous_secret_expires_at"]
    )
    assert rotated.json()["secret"] not in shown.content.decode()
    assert endpoint.previous_secret_salt not in shown.content.decode()

    # Once the window is over, no expiry is shown: no old secret verifies any more.
    WebhookEndpoint.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get(url).json()["previous_secret_expires_at"] is None


def test_a_rotation_takes_the_old_secrets_expiry_in_seconds(api):
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint
    rotate = f"{ENDPOINTS}{endpoint.id}/rotate-secret"

    hour = api.post(rotate, {"previous_secret_expires_in": 3600}, format="json")
    endpoint.refresh_from_db()
    assert hour.status_code == 200
    assert endpoint.previous_secret_expires_at == endpoint.secret_rotated_at + timedelta(hours=1)

    now = api.post(rotate, {"previous_secret_expires_in": 0}, format="json")
    endpoint.refresh_from_db()
    assert now.status_code == 200
    assert now.json()["previous_secret_expires_at"] is None
    assert endpoint.previous_secret_salt == ""


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, "greater than or equal to 0"),
        (604801, "less than or equal to 604800"),
        ("3600", "integer"),
        (1.5, "integer"),
        (True, "integer"),
        (None, "null"),
    ],
)
def test_a_rotation_refuses_a_bad_expiry_of_the_old_secret(api, value, words):
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint
    salt = endpoint.secret_salt

    response = api.post(
        f"{ENDPOINTS}{endpoint.id}/rotate-secret",
        {"previous_secret_expires_in": value},
        format="json",
    )

    assert response.status_code == 400
    message = response.json()["error"]["fields"]["previous_secret_expires_in"][0]
    assert words in message.lower() or words in message
    endpoint.refresh_from_db()
    assert endpoint.secret_salt == salt  # nothing rotated


def test_a_rotation_refuses_an_unknown_field(api):
    endpoint = services.endpoint_create(url="https://app.example.com/a").endpoint

    response = api.post(f"{ENDPOINTS}{endpoint.id}/rotate-secret", {"grace": 3600}, format="json")

    assert response.status_code == 400
    assert "grace" in response.json()["error"]["fields"]


def test_an_unknown_status_or_event_type_is_answered_with_the_ones_it_takes(api):
    statuses = api.get(DELIVERIES, {"status": "lost"})
    types = api.get(DELIVERIES, {"event_type": "run.exploded"})
    created = api.post(
        ENDPOINTS,
        {"url": "https://a.example.com/h", "event_types": ["run.exploded"]},
        format="json",
    )

    assert statuses.status_code == types.status_code == created.status_code == 400
    assert statuses.json()["error"]["fields"]["status"] == [
        "Not a delivery status; one of pending, delivered, failed, dead, canceled."
    ]
    for message in (
        types.json()["error"]["fields"]["event_type"][0],
        created.json()["error"]["fields"]["event_types.0"][0],
    ):
        assert message.startswith("Not an event type; one of tenant.active, tenant.failed,")
        assert "run.failed" in message and "orphan.found" in message


def test_an_endpoint_says_when_its_stored_url_fails_the_url_check(api):
    """A URL stored before the check was this strict (core.http_urls): deliveries to it fail
    at once, and the endpoint's representation says why, so the host app can change it."""
    bad = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    WebhookEndpoint.objects.filter(pk=bad.pk).update(url="https://user:pw@app.example.com/h")
    good = services.endpoint_create(url="https://ok.example.com/hooks").endpoint

    shown = api.get(f"{ENDPOINTS}{bad.pk}/").json()
    listed = {e["id"]: e for e in api.get(ENDPOINTS).json()["results"]}

    assert shown["url_problem"].startswith("Enter the URL without a user name or password")
    assert listed[str(bad.pk)]["url_problem"] == shown["url_problem"]
    assert listed[str(good.pk)]["url_problem"] is None


def test_a_ping_answers_202_with_its_delivery_to_poll(api):
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    other = services.endpoint_create(url="https://app.example.com/other").endpoint

    response = api.post(f"{ENDPOINTS}{endpoint.pk}/ping")

    assert response.status_code == 202
    body = response.json()
    assert body["endpoint"] == str(endpoint.pk)
    assert body["status"] == "pending"
    assert body["event"]["type"] == "ping"
    assert body["event"]["tenant"] is None
    assert body["event"]["data"] == {"endpoint_id": str(endpoint.pk)}
    polled = api.get(f"{DELIVERIES}{body['id']}")
    assert polled.status_code == 200
    assert polled.json()["event"]["id"] == body["event"]["id"]
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()
    listed = api.get(DELIVERIES, {"event_type": "ping"}).json()["results"]
    assert [delivery["id"] for delivery in listed] == [body["id"]]
    # Not a change, but like a replay it has the service send a request: who asked is kept.
    from audit.models import AuditEvent

    recorded = AuditEvent.objects.get(action="webhook_endpoint.ping")
    assert recorded.target_id == str(endpoint.pk)


def test_a_disabled_endpoint_is_not_pinged_and_told_why(api):
    endpoint = services.endpoint_create(url="https://app.example.com/hooks", is_active=False)

    response = api.post(f"{ENDPOINTS}{endpoint.endpoint.pk}/ping")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "webhook_endpoint_disabled"
    assert "Enable it first (is_active: true)" in response.json()["error"]["message"]
    assert not WebhookDelivery.objects.exists()


def test_a_ping_needs_the_scope_that_manages_endpoints(api):
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    _, key = api_key_create(name="reader", scopes=["tenants:read", "ops:manage"])
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert reader.post(f"{ENDPOINTS}{endpoint.pk}/ping").status_code == 403
    assert api.post(f"{ENDPOINTS}{uuid.uuid4()}/ping").status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_ping_is_no_event_type_to_subscribe_to(api):
    response = api.post(
        ENDPOINTS, {"url": "https://app.example.com/hooks", "event_types": ["ping"]}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["error"]["fields"]["event_types.0"][0]
    assert message.startswith("Not an event type; one of tenant.active, ")
    assert "ping" not in message


def test_the_schema_documents_the_ping_and_its_event():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    ping = schema["paths"]["/api/v1/webhooks/endpoints/{endpoint_id}/ping"]["post"]
    assert "202" in ping["responses"]
    assert "409" in ping["responses"]
    assert "ping" in schema["webhooks"]


def test_what_an_answer_made_or_sent_is_named_by_its_location(api):
    """A 201 for a new endpoint, and a 202 for the delivery a ping or a replay sends, said
    where to find it only in the body (the tenant, a rollout and a queued job say it in
    `Location` too); a client following Location found nothing."""
    created = api.post(ENDPOINTS, {"url": "https://app.example.com/hooks"}, format="json")
    endpoint_id = created.json()["id"]
    assert created.status_code == 201
    assert created["Location"] == f"/api/v1/webhooks/endpoints/{endpoint_id}"
    assert api.get(created["Location"]).json()["id"] == endpoint_id

    pinged = api.post(f"{ENDPOINTS}{endpoint_id}/ping")
    assert pinged.status_code == 202
    assert pinged["Location"] == f"/api/v1/webhooks/deliveries/{pinged.json()['id']}"

    WebhookDelivery.objects.filter(pk=pinged.json()["id"]).update(status=DeliveryStatus.DEAD)
    replayed = api.post(f"{DELIVERIES}{pinged.json()['id']}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["replay_of"] == pinged.json()["id"]
    assert replayed["Location"] == f"/api/v1/webhooks/deliveries/{replayed.json()['id']}"
    assert api.get(replayed["Location"]).json()["id"] == replayed.json()["id"]

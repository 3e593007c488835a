"""Idempotency-Key: a retried write returns the first response and acts only once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api import idempotency
from api.api_keys import api_key_create
from api.idempotency import LOCK_TIMEOUT, REPLAY_WINDOW, idempotency_records_purge
from api.models import IdempotencyRecord
from api.scopes import ALL_SCOPES
from tenants.models import Tenant

TENANTS = "/api/v1/tenants/"
BODY = {"external_id": "initech", "name": "Initech", "template": "shop-to-erp"}


def post(api, body, key="key-1"):
    return api.post(TENANTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_it_replays_the_first_response(api, template):
    first = post(api, BODY)
    Tenant.objects.filter(external_id="initech").update(name="Renamed meanwhile")
    again = post(api, BODY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


@pytest.mark.django_db
def test_a_replay_says_where_the_made_thing_is_as_the_first_answer_did(api, template):
    # A retry is answered as the first request was: a 201's Location too (as a 202's names
    # its job), which a host app follows.
    first = post(api, BODY)
    again = post(api, BODY)

    assert first["Location"] == "/api/v1/tenants/initech"
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]


@pytest.mark.django_db
def test_it_treats_both_url_forms_as_the_same_request(api, template):
    # A path is served with and without its trailing slash: a retry may use either.
    first = api.post("/api/v1/tenants", BODY, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = api.post("/api/v1/tenants/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert Tenant.objects.count() == 1


@pytest.mark.django_db
def test_it_treats_equal_json_as_the_same_request(api, template):
    post(api, BODY)
    reordered = b'{ "template": "shop-to-erp", "name": "Initech", "external_id": "initech" }'
    again = api.generic(
        "POST", TENANTS, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_it_refuses_the_same_key_for_a_different_body(api, template):
    post(api, BODY)
    response = post(api, {**BODY, "name": "Initrode"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Tenant.objects.get().name == "Initech"


@pytest.mark.django_db
def test_it_refuses_the_same_key_on_another_endpoint(api, acme):
    post(api, BODY)
    response = api.patch(
        f"{TENANTS}acme/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "POST /api/v1/tenants" in message and "PATCH /api/v1/tenants/acme" in message
    assert "body" not in message


@pytest.mark.django_db
def test_it_says_what_differs_when_a_key_is_reused(api, acme, template):
    post(api, BODY)
    other_path = api.post(
        "/api/v1/tenants/acme/pin", {}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    other_body = post(api, {**BODY, "name": "Initrode"})

    path_message = other_path.json()["error"]["message"]
    assert "another body" not in path_message
    assert "POST /api/v1/tenants/acme/pin" in path_message
    assert "POST /api/v1/tenants" in path_message
    body_message = other_body.json()["error"]["message"]
    assert "POST /api/v1/tenants with another body" in body_message


@pytest.mark.django_db
def test_it_replays_errors_of_a_request_that_ran_too(api, acme):
    def provision():
        return api.post(f"{TENANTS}acme/provision", HTTP_IDEMPOTENCY_KEY="key-1")

    first, again = provision(), provision()
    assert first.status_code == again.status_code == 409
    assert first.json()["error"]["code"] == "credentials_missing"
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_it_keeps_no_answer_to_a_request_refused_for_its_content(api, template):
    # As Stripe's: nothing ran, so the corrected request may use the same key.
    refused = post(api, {**BODY, "settings": {"sync_interval_minutes": 0}})
    corrected = post(api, BODY)
    assert (refused.status_code, corrected.status_code) == (400, 201)
    assert idempotency.REPLAYED_HEADER not in corrected
    assert post(api, BODY)[idempotency.REPLAYED_HEADER] == "true"


@pytest.mark.django_db
def test_it_scopes_keys_to_the_api_key(api, template):

    post(api, BODY)
    _, other_key = api_key_create(name="other host app", scopes=ALL_SCOPES)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    response = post(other, {**BODY, "name": "Initrode"})
    assert response.status_code == 409  # a fresh request: the tenant exists with another name
    assert response.json()["error"]["code"] == "tenant_exists"


@pytest.mark.django_db
def test_it_forgets_a_key_after_the_replay_window(api, template):
    post(api, BODY)
    IdempotencyRecord.objects.update(created_at=timezone.now() - REPLAY_WINDOW - timedelta(1))
    response = post(api, {**BODY, "name": "Initrode"})
    assert response.status_code == 409  # ran again, not replayed
    assert idempotency_records_purge() == 0  # the stale record was replaced
    IdempotencyRecord.objects.update(created_at=timezone.now() - REPLAY_WINDOW - timedelta(1))
    assert idempotency_records_purge() == 1


@pytest.mark.django_db
def test_it_asks_to_retry_while_the_first_request_runs(api, template):
    post(api, BODY)
    IdempotencyRecord.objects.update(response_status=None, locked_at=timezone.now())
    response = post(api, BODY)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_request_in_progress"
    assert response["Retry-After"] == "1"  # when "later" is
    # A request that died mid-way stops blocking the key after LOCK_TIMEOUT.
    IdempotencyRecord.objects.update(locked_at=timezone.now() - LOCK_TIMEOUT - timedelta(1))
    assert post(api, BODY).status_code == 200  # ran again: the tenant already exists


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "has space"])
def test_it_refuses_a_malformed_key(api, template, key):
    response = api.post(TENANTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


@pytest.mark.django_db
def test_it_ignores_the_header_on_reads(api, acme):
    assert api.get(f"{TENANTS}acme/", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_tenant_from_concurrent_duplicates(host_key, template):
    """Eight clients send the same create at once, half with one Idempotency-Key: one tenant
    is made, every answer names it, and none is an error other than 'in progress'."""
    barrier = threading.Barrier(8)
    results = []

    def send(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {host_key}")
        headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"} if index % 2 else {}
        barrier.wait()
        try:
            response = client.post(TENANTS, BODY, format="json", **headers)
            replayed = response.headers.get(idempotency.REPLAYED_HEADER) == "true"
            results.append((response.status_code, response.json(), replayed))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Tenant.objects.filter(external_id="initech").count() == 1
    statuses = sorted(status for status, _, _ in results)
    assert len(statuses) == 8
    # One request created it; a replay of that request's answer repeats its 201.
    assert [s for s, _, replayed in results if not replayed].count(201) == 1, results
    assert set(statuses) <= {200, 201, 409}
    for status, body, _ in results:
        if status == 409:
            assert body["error"]["code"] == "idempotency_request_in_progress"
        else:
            assert body["external_id"] == "initech"


@pytest.mark.django_db
def test_it_keeps_no_secret_of_a_replayable_response_readable_at_rest(api):
    """A webhook endpoint's secret is shown once, in the create response; the idempotency
    record that replays that response must not hold it in clear."""
    body = {"url": "https://app.example.com/hooks"}
    first = api.post("/api/v1/webhooks/endpoints/", body, format="json", HTTP_IDEMPOTENCY_KEY="wh")
    secret = first.json()["secret"]
    assert secret.startswith("whsec_")

    stored = IdempotencyRecord.objects.get(key="wh").response_body
    assert secret not in stored and "whsec_" not in stored
    with connection.cursor() as cursor:
        cursor.execute("SELECT response_body FROM api_idempotencyrecord")
        assert all(secret not in row[0] for row in cursor.fetchall())

    again = api.post("/api/v1/webhooks/endpoints/", body, format="json", HTTP_IDEMPOTENCY_KEY="wh")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()

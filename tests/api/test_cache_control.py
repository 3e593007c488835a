"""API answers are never stored by a browser or a cache on the way: several carry a credential
shown once (a connect link's token and URL, a webhook endpoint's signing secret), and every
one carries the host app's customers' data."""

import pytest

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_a_connect_links_token_is_answered_no_store_first_and_replayed(api, acme):
    first = api.post(
        "/api/v1/tenants/acme/connect-links", {}, format="json", HTTP_IDEMPOTENCY_KEY="link-1"
    )
    again = api.post(
        "/api/v1/tenants/acme/connect-links", {}, format="json", HTTP_IDEMPOTENCY_KEY="link-1"
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["token"] and again["Idempotent-Replayed"] == "true"
    assert _no_store(first) and _no_store(again)


def test_a_webhook_signing_secret_is_answered_no_store(api):
    created = api.post(
        "/api/v1/webhooks/endpoints/", {"url": "https://hooks.example.test/in"}, format="json"
    )
    rotated = api.post(f"/api/v1/webhooks/endpoints/{created.json()['id']}/rotate-secret")

    assert created.json()["secret"] and rotated.json()["secret"]
    assert _no_store(created) and _no_store(rotated)


def test_reads_and_refusals_are_answered_no_store(api, anonymous_api, acme):
    assert _no_store(api.get("/api/v1/tenants/acme"))
    assert _no_store(api.get("/api/v1/tenants/nobody"))
    assert _no_store(anonymous_api.get("/api/v1/tenants/acme"))

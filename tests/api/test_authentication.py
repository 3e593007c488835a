"""Every endpoint needs a valid API key: none, a wrong one or a revoked one is refused."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from api import authentication

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/templates/"),
    ("get", "/api/v1/templates/shop-to-erp/"),
    ("get", "/api/v1/tenants/"),
    ("post", "/api/v1/tenants/"),
    ("get", "/api/v1/tenants/acme/"),
    ("patch", "/api/v1/tenants/acme/"),
    ("delete", "/api/v1/tenants/acme/"),
    ("post", "/api/v1/tenants/acme/connect-links"),
    ("put", "/api/v1/tenants/acme/connections/shop"),
]


def client_with(authorization: str | None) -> APIClient:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_it_refuses_a_request_without_a_key(acme, method, path):
    response = getattr(client_with(None), method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_it_refuses_a_revoked_key(acme, revoked_key, method, path):
    response = getattr(client_with(f"Api-Key {revoked_key}"), method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    "authorization",
    [
        "Api-Key ",
        "Api-Key wrong",
        "Api-Key abcdefgh.abcdefghabcdefghabcdefghabcdefgh",
        "Api-Key \x00\x01",
        "Api-Key " + "a" * 5000,
    ],
)
def test_it_refuses_a_wrong_key(acme, authorization):
    response = client_with(authorization).get("/api/v1/tenants/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_it_refuses_another_scheme(acme, host_key):
    response = client_with(f"Bearer {host_key}").get("/api/v1/tenants/")
    assert response.status_code == 401


def test_it_accepts_a_valid_key_with_any_keyword_case(acme, host_key):
    assert client_with(f"Api-Key {host_key}").get("/api/v1/tenants/").status_code == 200
    assert client_with(f"api-key {host_key}").get("/api/v1/tenants/").status_code == 200


def test_it_refuses_an_expired_key(acme):
    _, key = APIKey.objects.create_key(
        name="expired", expiry_date=timezone.now() - timedelta(minutes=1)
    )
    response = client_with(f"Api-Key {key}").get("/api/v1/tenants/")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_it_serves_the_schema_and_docs_without_a_key(db):
    assert client_with(None).get("/api/schema/").status_code == 200
    assert client_with(None).get("/api/docs/").status_code == 200


def test_a_revoked_key_stops_working_once_the_process_cache_expires(acme, host_key, monkeypatch):
    client = client_with(f"Api-Key {host_key}")
    assert client.get("/api/v1/tenants/").status_code == 200
    APIKey.objects.update(revoked=True)
    # Within KEY_CACHE_SECONDS the process still trusts what it checked (documented trade-off).
    assert client.get("/api/v1/tenants/").status_code == 200
    later = time.monotonic() + authentication.KEY_CACHE_SECONDS + 1
    monkeypatch.setattr(authentication.time, "monotonic", lambda: later)
    assert client.get("/api/v1/tenants/").status_code == 401


def test_a_wrong_key_is_never_cached(acme, host_key, django_assert_num_queries):
    wrong = client_with("Api-Key abcdefgh.abcdefghabcdefghabcdefghabcdefgh")
    wrong.get("/api/v1/tenants/")
    with django_assert_num_queries(1):
        assert wrong.get("/api/v1/tenants/").status_code == 401

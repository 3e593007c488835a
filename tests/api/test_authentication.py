"""Every endpoint needs a valid API key: none, a wrong one or a revoked one is refused, and
the refusal says what was wrong with what was sent (never repeating the key)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from tests.config.test_settings import run_manage

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
    ("get", "/api/v1/tenants/acme/connect-links"),
    ("delete", "/api/v1/tenants/acme/connect-links/0b1d3c44-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
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
    assert "Authorization: Bearer <key>" in response.json()["error"]["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


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


@pytest.mark.parametrize(
    ("authorization", "named"),
    [
        ("{key}", "no scheme"),
        ("Basic {key}", "Basic"),
        ("Token {key}", "Token"),
        ("{key} {key}", "unrecognised scheme"),
        ("Bearer", "no key"),
        ("Bearer {key} extra", "malformed"),
        ("Bearer {key}x", "malformed"),
        ("Api-Key short", "malformed"),
        # A client that adds "Bearer " to a value that already has it: "malformed" sent its
        # developer to look at a key that was right.
        ("Bearer Bearer {key}", "scheme twice"),
        ("Bearer bearer {key}", "scheme twice"),
        ("Api-Key Bearer {key}", "scheme twice"),
        ("Bearer Bearer", "scheme twice"),
    ],
)
def test_it_says_what_was_wrong_with_the_header_without_repeating_the_key(
    acme, host_key, authorization, named
):
    response = client_with(authorization.format(key=host_key)).get("/api/v1/tenants/")

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "authentication_failed"
    assert named in error["message"]
    assert "Authorization: Bearer <key>" in error["message"]
    assert host_key not in response.content.decode()
    assert host_key.split(".")[1] not in response.content.decode()
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_it_points_a_key_sent_in_another_header_to_the_authorization_header(acme, host_key):
    response = APIClient().get("/api/v1/tenants/", HTTP_X_API_KEY=host_key)

    assert response.status_code == 401
    assert "X-Api-Key" in response.json()["error"]["message"]
    assert "Authorization: Bearer <key>" in response.json()["error"]["message"]
    assert host_key not in response.content.decode()


@pytest.mark.parametrize("keyword", ["Bearer", "bearer", "Api-Key", "api-key"])
def test_it_accepts_a_valid_key_as_a_bearer_token_or_with_the_api_key_keyword(
    acme, host_key, keyword
):
    assert client_with(f"{keyword} {host_key}").get("/api/v1/tenants/").status_code == 200


def test_it_refuses_an_expired_key(acme, expired_key):
    response = client_with(f"Api-Key {expired_key}").get("/api/v1/tenants/")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "The API key has expired (at 2020-01-01 00:00 UTC). Create a new key, or "
        "extend this one's expiry in the admin (API keys).",
    }


def test_it_serves_the_schema_and_docs_without_a_key(db):
    assert client_with(None).get("/api/schema/").status_code == 200
    assert client_with(None).get("/api/docs/").status_code == 200


def test_it_refuses_a_key_from_the_request_after_it_is_revoked(acme, host_key):
    client = client_with(f"Api-Key {host_key}")
    assert client.get("/api/v1/tenants/").status_code == 200
    # As the admin's "revoke" does it: the model saved.
    api_key = APIKey.objects.get(name="host app")
    api_key.revoked = True
    api_key.save()

    response = client.get("/api/v1/tenants/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_it_refuses_a_key_from_the_request_after_it_expires(acme, host_key):
    client = client_with(f"Api-Key {host_key}")
    assert client.get("/api/v1/tenants/acme/").status_code == 200
    # As a command would do it: a queryset update, no model signal.
    keys = APIKey.objects.filter(name="host app")
    keys.update(expiry_date=timezone.now() + timedelta(seconds=30))
    assert client.get("/api/v1/tenants/acme/").status_code == 200
    keys.update(expiry_date=timezone.now() - timedelta(seconds=1))

    response = client.get("/api/v1/tenants/acme/")

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_it_checks_a_known_key_with_one_primary_key_query(
    acme, host_key, django_assert_num_queries
):
    client = client_with(f"Api-Key {host_key}")
    client.get("/api/v1/tenants/acme/")
    # The key's hash was verified once; from then on only its row's revoked and expiry
    # columns and its grant are read, by primary key (plus the tenant detail's own one query).
    # Its last-used time was written by the first request, and is not again within a minute.
    with django_assert_num_queries(2) as queries:
        assert client.get("/api/v1/tenants/acme/").status_code == 200
    key_query = queries.captured_queries[0]["sql"]
    assert "FROM rest_framework_api_key_apikey k" in key_query
    assert "LEFT JOIN api_apikeygrant g ON g.api_key_id = k.id WHERE k.id =" in key_query


def test_a_wrong_key_is_never_cached(acme, host_key, django_assert_num_queries):
    wrong = client_with("Api-Key abcdefgh.abcdefghabcdefghabcdefghabcdefgh")
    wrong.get("/api/v1/tenants/")
    with django_assert_num_queries(1):
        assert wrong.get("/api/v1/tenants/").status_code == 401


SQLITE_SCRIPT = """
import json
from datetime import timedelta
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.models import APIKey
from api.api_keys import api_key_create
from api.authentication import _valid_api_key

def check(key):
    try:
        return _valid_api_key(key)[1]
    except AuthenticationFailed as error:
        return "expired" if "expired (at 20" in str(error.detail) else str(error.detail)

row, key = api_key_create(name="host app", scopes=["tenants:read"])
seen = [check(key), check(key)]
APIKey.objects.filter(pk=row.pk).update(expiry_date=timezone.now() + timedelta(seconds=30))
seen.append(check(key))
APIKey.objects.filter(pk=row.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
seen.append(check(key))
APIKey.objects.filter(pk=row.pk).update(expiry_date=None, revoked=True)
seen.append(check(key))
print(json.dumps(seen))
"""


def test_it_checks_revocation_and_expiry_on_sqlite_too(tmp_path):
    # The check is plain SQL, and SQLite (`make run`) keeps datetimes as text.
    env = {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    migrated = run_manage(["migrate", "--noinput"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    result = run_manage(["shell", "-c", SQLITE_SCRIPT], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "host app",
        "host app",
        "host app",
        "expired",
        "The API key is not valid.",
    ]

"""Scoped API keys: every endpoint names its scope, and a key outside it is refused with 403
`insufficient_scope`, naming the scope, in the API's error shape."""

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIRequestFactory

from api import urls
from api.authentication import api_key_cache_clear
from api.models import ApiKeyGrant
from api.scopes import ALL_SCOPES, ANY_SCOPE, Scope
from api.views import ApiView
from tenants.models import Tenant
from tests.fixtures.personas import client_with_key, key_with_scopes
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

HANDLERS = ("get", "post", "put", "patch", "delete")


def _view_class(pattern: URLPattern):
    return getattr(pattern.callback, "cls", None) or pattern.callback.view_class


def _api_routes() -> list[tuple[str, type]]:
    """Every endpoint of api/urls.py once (the form without the trailing slash), with its
    view class; the catch-all for unknown paths is left out (it has no handler)."""
    routes = []
    for pattern in urls.urlpatterns:
        route = str(pattern.pattern)
        if route.endswith("/") or route.startswith("^"):
            continue
        routes.append((route, _view_class(pattern)))
    return routes


ROUTES = _api_routes()
OPERATIONS = [
    pytest.param(route, view, handler, id=f"{handler.upper()} /{route}")
    for route, view in ROUTES
    for handler in HANDLERS
    if hasattr(view, handler)
]


def _concrete(route: str) -> str:
    # Ids that exist nowhere: the scope is checked before anything is looked up.
    return "/api/v1/" + re.sub(r"<str:(\w+)>", lambda m: f"no-such-{m[1]}", route)


def _call(client, handler: str, path: str):
    if handler in ("get", "delete"):
        return getattr(client, handler)(path)
    return getattr(client, handler)(path, {}, format="json")


def test_the_walk_finds_every_endpoint():
    # A guard on the walk itself: if it found nothing, the tests below would prove nothing.
    assert len(ROUTES) >= 50
    assert len(OPERATIONS) >= 55


@pytest.mark.parametrize(("route", "view"), ROUTES, ids=[route for route, _ in ROUTES])
def test_every_view_declares_a_scope_for_each_of_its_handlers(route, view):
    required = getattr(view, "required_scopes", None)
    assert required is not None, f"{view.__name__} (/{route}) declares no required_scopes"
    handlers = {handler for handler in HANDLERS if hasattr(view, handler)}
    assert set(required) == handlers, f"{view.__name__}: scopes for {set(required)}"
    for scope in required.values():
        assert scope == ANY_SCOPE or scope in ALL_SCOPES, f"{view.__name__}: {scope!r}"


def test_a_view_without_a_declared_scope_fails_closed(host_key):
    class Forgotten(ApiView):
        def get(self, request):
            raise AssertionError("reached without a scope")

    request = APIRequestFactory().get("/api/v1/forgotten", HTTP_AUTHORIZATION=f"Bearer {host_key}")
    response = Forgotten.as_view()(request)
    assert response.status_code == 500
    assert response.data["error"]["code"] == "internal_error"


@pytest.mark.parametrize(("route", "view", "handler"), OPERATIONS)
def test_a_key_without_the_scope_is_refused_naming_it(route, view, handler):
    scope = view.required_scopes[handler]
    if scope == ANY_SCOPE:
        pytest.skip("any key may call it")
    others = [other for other in ALL_SCOPES if other != scope]
    client = client_with_key(key_with_scopes(*others))

    response = _call(client, handler, _concrete(route))

    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert f"`{scope}`" in error["message"]
    assert f'scope="{scope}"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(("route", "view", "handler"), OPERATIONS)
def test_a_key_with_only_the_scope_gets_past_the_check(route, view, handler):
    scope = view.required_scopes[handler]
    client = client_with_key(key_with_scopes(*([] if scope == ANY_SCOPE else [scope])))

    response = _call(client, handler, _concrete(route))

    # 404 (no such tenant...), 400 (an empty body), 200: anything but a scope refusal.
    assert response.status_code != 403, response.content
    assert response.status_code < 500, response.content


def test_a_read_key_cannot_patch_a_tenant(read_api, acme):
    assert read_api.get("/api/v1/tenants/acme").status_code == 200

    response = read_api.patch("/api/v1/tenants/acme", {"name": "Hijacked"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "insufficient_scope",
            "message": "This API key lacks the scope `tenants:write`, which PATCH "
            "/api/v1/tenants/acme needs (the key's scopes: tenants:read). Create a key with "
            "that scope, or grant it in the admin (API keys).",
        }
    }
    assert Tenant.objects.get(pk=acme.pk).name == "Acme Ltd"
    assert read_api.delete("/api/v1/tenants/acme").status_code == 403
    assert Tenant.objects.get(pk=acme.pk).status == acme.status


def test_a_webhook_key_cannot_touch_tenants(webhooks_api, acme):
    created = webhooks_api.post(
        "/api/v1/webhooks/endpoints", {"url": "https://host.example.com/hooks"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert webhooks_api.get("/api/v1/webhooks/deliveries").status_code == 200

    for response in (
        webhooks_api.get("/api/v1/tenants"),
        webhooks_api.get("/api/v1/tenants/acme"),
        webhooks_api.post(
            "/api/v1/tenants",
            {"external_id": "initech", "name": "Initech", "template": "shop-to-erp"},
            format="json",
        ),
        webhooks_api.post("/api/v1/tenants/acme/provision", {}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "insufficient_scope"
    assert not Tenant.objects.filter(external_id="initech").exists()


def test_a_tenant_key_cannot_redirect_webhooks(scoped_api):
    client = scoped_api(Scope.TENANTS_READ, Scope.TENANTS_WRITE)
    response = client.post(
        "/api/v1/webhooks/endpoints", {"url": "https://evil.example.com/hooks"}, format="json"
    )
    assert response.status_code == 403
    assert "`webhooks:manage`" in response.json()["error"]["message"]
    assert not WebhookEndpoint.objects.exists()


def test_a_key_without_scopes_reaches_only_the_root(scoped_api, acme):
    client = scoped_api()
    assert client.get("/api/v1/").status_code == 200
    response = client.get("/api/v1/tenants")
    assert response.status_code == 403
    assert "(the key's scopes: none)" in response.json()["error"]["message"]


def test_a_key_made_without_a_grant_has_no_scopes(acme):
    # Made by calling the library directly: access is granted, never assumed.
    from rest_framework_api_key.models import APIKey

    _, key = APIKey.objects.create_key(name="made by hand")
    response = client_with_key(key).get("/api/v1/tenants")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_a_scope_change_holds_from_the_next_request(read_api, acme):
    assert read_api.get("/api/v1/tenants/acme").status_code == 200  # the key is now cached
    ApiKeyGrant.objects.filter(api_key__name="dashboard").update(scopes=["webhooks:manage"])

    assert read_api.get("/api/v1/tenants/acme").status_code == 403
    api_key_cache_clear()


def test_unauthenticated_requests_still_answer_401_before_any_scope(anonymous_api, acme):
    response = anonymous_api.patch("/api/v1/tenants/acme", {"name": "x"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_expired_key_is_refused_whatever_its_scopes(expired_key, acme):
    response = client_with_key(expired_key).get("/api/v1/tenants/acme")
    assert response.status_code == 401
    assert "has expired (at 2020-01-01 00:00 UTC)" in response.json()["error"]["message"]


def test_last_used_is_written_at_most_once_a_minute(read_api, acme):
    grant = ApiKeyGrant.objects.get(api_key__name="dashboard")
    assert grant.last_used_at is None

    read_api.get("/api/v1/tenants/acme")
    grant.refresh_from_db()
    first = grant.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=10)

    read_api.get("/api/v1/tenants/acme")
    read_api.get("/api/v1/tenants")
    grant.refresh_from_db()
    assert grant.last_used_at == first  # no write per request

    a_while_ago = timezone.now() - timedelta(minutes=2)
    ApiKeyGrant.objects.filter(pk=grant.pk).update(last_used_at=a_while_ago)
    read_api.get("/api/v1/tenants/acme")
    grant.refresh_from_db()
    assert grant.last_used_at > a_while_ago + timedelta(minutes=1)


def test_a_refused_call_counts_as_use_too(read_api, acme):
    # The key was valid; what it tried is its caller's business (the audit log's, not this).
    read_api.patch("/api/v1/tenants/acme", {"name": "x"}, format="json")
    assert ApiKeyGrant.objects.get(api_key__name="dashboard").last_used_at is not None


# --- the OpenAPI document ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_states_its_scope(schema):
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in HANDLERS
    ]
    assert len(operations) == len(OPERATIONS)
    for path, method, operation in operations:
        scope = operation.get("x-required-scope")
        if path == "/api/v1":
            assert scope is None
            assert operation["security"] == [{"ApiKey": []}]
            assert "any valid API key" in operation["description"]
            continue
        assert scope in ALL_SCOPES, (method, path)
        assert operation["security"] == [{"ApiKey": [scope]}], (method, path)
        assert f"**Scope:** `{scope}`" in operation["description"], (method, path)


def test_the_schema_names_the_scope_of_a_tenant_patch(schema):
    patch = schema["paths"]["/api/v1/tenants/{external_id}"]["patch"]
    assert patch["x-required-scope"] == "tenants:write"
    get = schema["paths"]["/api/v1/tenants/{external_id}"]["get"]
    assert get["x-required-scope"] == "tenants:read"


def test_the_security_scheme_lists_every_scope(schema):
    description = schema["components"]["securitySchemes"]["ApiKey"]["description"]
    for scope in ALL_SCOPES:
        assert f"`{scope}`" in description


def test_the_root_tells_a_key_what_it_may_do(scoped_api):
    client = scoped_api(Scope.WEBHOOKS_MANAGE, Scope.TENANTS_READ)

    key = client.get("/api/v1").json()["api_key"]

    assert key["scopes"] == ["tenants:read", "webhooks:manage"]
    assert key["expires_at"] is None and len(key["prefix"]) == 8

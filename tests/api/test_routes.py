"""One URL style: the schema shows every path without a trailing slash (as Stripe's and
GitHub's APIs do), and the same path with one answers the same way, for every method."""

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema_paths():
    return list(SchemaGenerator().get_schema(request=None, public=True)["paths"])


def _concrete(path: str) -> str:
    return path.replace("{", "").replace("}", "")


def test_the_schema_shows_no_path_with_a_trailing_slash(schema_paths):
    assert schema_paths
    assert [path for path in schema_paths if path.endswith("/")] == []


def test_every_path_is_served_with_and_without_a_trailing_slash(schema_paths):
    for path in schema_paths:
        canonical = resolve(_concrete(path)).func
        with_slash = resolve(_concrete(path) + "/").func
        assert with_slash.view_class is canonical.view_class, path
        assert canonical.view_class.__name__ != "UnknownEndpointApi", path


@pytest.mark.parametrize("slash", ["", "/"])
def test_writes_with_a_body_work_in_both_forms(api, template, slash):
    body = {"external_id": f"acme{len(slash)}", "name": "Acme", "template": "shop-to-erp"}
    created = api.post(f"/api/v1/tenants{slash}", body, format="json")
    assert created.status_code == 201, created.content
    assert created["Location"] == f"/api/v1/tenants/{body['external_id']}"

    path = f"/api/v1/tenants/{body['external_id']}{slash}"
    changed = api.patch(path, {"name": "Acme Ltd"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Acme Ltd"
    assert api.delete(path).status_code == 202
    assert Tenant.objects.get(external_id=body["external_id"]).name == "Acme Ltd"


def test_the_root_answers_in_both_forms(api):
    assert api.get("/api/v1").json()["api_version"] == "v1"
    assert api.get("/api/v1/").json()["api_version"] == "v1"


def test_an_unknown_path_says_where_the_reference_is(api):
    response = api.get("/api/v1/tenant")
    assert response.status_code == 404
    assert "/api/docs/" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v2/tenants", "/api/", "/api", "/api/tenants"])
def test_a_path_under_api_outside_the_version_answers_in_the_api_s_shape(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/v1" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/docs", "/api/schema"])
def test_the_reference_is_served_without_its_slash_too(client, path):
    assert client.get(path).status_code == 200

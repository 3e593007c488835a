"""Malformed input never causes a 500: every error comes back in the one JSON shape."""

import json
import re

import pytest

from tenants.models import Tenant

pytestmark = pytest.mark.django_db

TENANTS = "/api/v1/tenants/"


def post_raw(api, body: bytes, content_type="application/json", path=TENANTS):
    return api.generic("POST", path, body, content_type=content_type)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_it_refuses_bad_json(api, template):
    assert_error(post_raw(api, b'{"external_id": '), 400, "malformed_request")


def test_it_refuses_bad_utf8(api, template):
    body = b'{"external_id": "a\xff\xfe", "name": "x", "template": "shop-to-erp"}'
    assert_error(post_raw(api, body), 400, "malformed_request")


def test_it_names_an_unknown_field_whose_name_is_half_a_character(api, template):
    # JSON's grammar takes "\ud800" alone, though no text holds it; the error repeats the
    # name it refuses, and that answer could not be encoded: a plain-text 500.
    body = rb'{"\ud800": 1, "external_id": "a", "name": "x", "template": "shop-to-erp"}'
    error = assert_error(post_raw(api, body), 400, "invalid_fields")
    assert list(error["fields"]) == ["\ud800"]
    assert not Tenant.objects.exists()


@pytest.mark.parametrize("field", ["external_id", "name", "template"])
def test_it_refuses_half_a_character_in_a_text_field_and_names_it(api, template, field):
    body = {"external_id": "a", "name": "x", "template": "shop-to-erp"}
    raw = json.dumps({**body, field: "a\ud800"}).encode()
    error = assert_error(post_raw(api, raw), 400, "invalid_fields")
    assert list(error["fields"]) == [field]


def test_it_takes_a_surrogate_pair_escape(api, template):
    body = rb'{"external_id": "emoji", "name": "Caf\u00e9 \ud83d\ude00", "template": "shop-to-erp"}'
    response = post_raw(api, body)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Caf\u00e9 \U0001f600"


def test_it_refuses_json_nested_too_deeply(api, template):
    assert_error(post_raw(api, b"[" * 100_000 + b"]" * 100_000), 400, "malformed_request")


def test_it_refuses_nan(api, template):
    body = b'{"external_id": "a", "name": "x", "template": "shop-to-erp", "settings": {"a": NaN}}'
    assert_error(post_raw(api, body), 400, "malformed_request")


def test_it_refuses_a_huge_body(api, template):
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert_error(post_raw(api, body), 413, "request_too_large")


def test_it_refuses_another_media_type(api, template):
    response = post_raw(api, b"external_id=a", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_it_refuses_a_body_that_is_not_an_object(api, template):
    error = assert_error(post_raw(api, b"[1, 2]"), 400, "invalid_fields")
    assert "non_field_errors" in error["fields"]


@pytest.mark.parametrize(
    ("body", "kind"), [(b"null", "null"), (b"[1, 2]", "a list"), (b'"acme"', "a string")]
)
def test_a_body_that_is_not_an_object_is_told_what_it_is(api, template, body, kind):
    # JSON null was answered "No data provided", though the client sent a body; a list was
    # "Invalid data. Expected a dictionary": Python's word, not the document's.
    error = assert_error(post_raw(api, body), 400, "invalid_fields")

    assert error["message"] == f"The body must be a JSON object ({{...}}); this one is {kind}."
    assert list(error["fields"]) == ["non_field_errors"]


def test_it_refuses_wrong_types_field_by_field(api, template):
    body = {"external_id": {"a": 1}, "name": ["x"], "template": None, "settings": "x"}
    error = assert_error(api.post(TENANTS, body, format="json"), 400, "invalid_fields")
    assert set(error["fields"]) == {"external_id", "name", "template", "settings"}


def test_it_refuses_unknown_fields(api, template):
    body = {"external_id": "a", "name": "A", "template": "shop-to-erp", "plan": "gold"}
    error = assert_error(api.post(TENANTS, body, format="json"), 400, "invalid_fields")
    assert error["fields"] == {"plan": ["This field is not allowed."]}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", 0, "a string"),
        ("name", True, "a string"),
        ("allowed_origins", "https://app.example.com", "an array"),
        ("allowed_origins", [7], "a string"),
    ],
)
def test_it_refuses_a_value_of_another_json_type_than_the_fields(
    api, template, field, value, expected
):
    # DRF would store 0 as "0" and read "true" as true: what the document calls invalid.
    body = {"external_id": "a", "name": "A", "template": "shop-to-erp", field: value}
    error = assert_error(api.post(TENANTS, body, format="json"), 400, "invalid_fields")
    assert list(error["fields"]) == [field]
    assert expected in error["fields"][field][0]
    assert not Tenant.objects.exists()


def test_it_takes_an_integer_written_with_a_zero_fraction(api, acme):
    # 600.0 is an integer to JSON Schema (and to the document); 600.5 is not.
    url = "/api/v1/tenants/acme/connect-links"
    assert api.post(url, {"expires_in": 600.0}, format="json").status_code == 201
    error = assert_error(api.post(url, {"expires_in": 600.5}, format="json"), 400, "invalid_fields")
    assert list(error["fields"]) == ["expires_in"]


def test_the_document_says_an_object_field_takes_an_object_only(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    fields = document["components"]["schemas"]["TenantConnectionInputRequest"]["properties"]
    assert fields["fields"]["type"] == "object"


def test_it_takes_strings_as_they_were_sent(api, template):
    # Trimming would accept " a" against the external_id pattern the document states.
    body = {"external_id": " a", "name": " A ", "template": "shop-to-erp"}
    error = assert_error(api.post(TENANTS, body, format="json"), 400, "invalid_fields")
    assert list(error["fields"]) == ["external_id"]
    body["external_id"] = "a"
    assert api.post(TENANTS, body, format="json").json()["name"] == " A "


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://app.example.com/hooks?a=%20b#c", 201),
        ("http://127.0.0.1:9000/hooks", 201),
        ("https://exa mple.com/", 400),
        ("ftp://app.example.com/", 400),
        ("https://app.example.com/\n", 400),
        ("https://app.example.com/é", 400),
        # A port or a host no request can reach: refused, not retried until dead-lettered
        # (for the empty label, delivery failed with an exception it did not catch).
        ("https://app.example.com:65535/hooks", 201),
        ("https://app.example.com:99999/hooks", 400),
        ("https://app.example.com:0/hooks", 400),
        ("https://hooks.example.com./x", 201),
        ("https://.../hooks", 400),
        ("https://app..example.com/hooks", 400),
        ("https://.example.com/x", 400),
        ("https://-/hooks", 400),
        ("https://app.-example.com/hooks", 400),
        (f"https://{'a' * 63}.example.com/x", 201),
        (f"https://{'a' * 64}.example.com/x", 400),
    ],
)
def test_it_takes_exactly_the_urls_the_document_describes(api, url, status):
    from api.serializers import HTTP_URL_PATTERN

    response = api.post("/api/v1/webhooks/endpoints", {"url": url}, format="json")
    assert response.status_code == status, response.content
    # The pattern read as JSON Schema reads it ($ at the very end only, as in ECMA-262).
    assert bool(re.fullmatch(HTTP_URL_PATTERN.strip("^$"), url)) == (status == 201)


@pytest.mark.parametrize(
    "settings",
    [
        rb'{"store_id": "a\u0000b"}',
        rb'{"\u0000": 1}',
        rb'{"erp_subsidiary": "\ud800"}',
    ],
)
def test_it_refuses_strings_the_database_cannot_store(api, template, settings):
    body = b'{"external_id": "a", "name": "A", "template": "shop-to-erp", "settings": %s}'
    error = assert_error(post_raw(api, body % settings), 400, "invalid_fields")
    assert list(error["fields"]) == ["settings"]
    assert not Tenant.objects.exists()


def test_it_refuses_nul_in_plain_fields_and_filters(api, template):
    body = {"external_id": "a", "name": "A\u0000", "template": "shop-to-erp"}
    assert_error(api.post(TENANTS, body, format="json"), 400, "invalid_fields")
    assert_error(api.get(TENANTS, {"search": "a\x00"}), 400, "invalid_fields")


def test_it_answers_404_in_the_error_shape_for_unknown_paths(api):
    assert_error(api.get("/api/v1/nothing/here"), 404, "not_found")
    assert_error(api.post("/api/v1/tenants/acme/nothing", {}, format="json"), 404, "not_found")


def test_it_answers_405_for_an_unsupported_method(api, acme):
    assert_error(api.put("/api/v1/tenants/acme/", {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "path", ["/api/v1/tenants", "/api/v1/audit-events", "/api/v1/tenants/acme"]
)
def test_options_is_a_405_in_the_error_shape_for_any_key(read_api, acme, path):
    """OPTIONS is not in the API's document; DRF's metadata answer (the view's name and
    description, 200) came back to any key, whatever its scopes, and in no documented shape."""
    response = read_api.options(path)
    error = assert_error(response, 405, "method_not_allowed")
    assert "OPTIONS" not in response["Allow"]
    assert "name" not in response.json() and "Api" not in error["message"]


def test_it_answers_406_for_an_unsupported_accept(api, acme):
    response = api.get("/api/v1/tenants/acme/", HTTP_ACCEPT="text/html")
    error = assert_error(response, 406, "not_acceptable")
    # It says what was asked for and what the API serves, as the 415 of a body does (DRF's
    # "Could not satisfy the request Accept header." said neither).
    assert '"text/html"' in error["message"] and "application/json" in error["message"]


@pytest.mark.parametrize("path", ["/api/v1/tenants", "/api/v1", "/api/v2/x"])
def test_a_host_the_service_does_not_answer_to_is_refused_in_the_api_shape(client, path):
    """A host app calling the API by a name missing from ALLOWED_HOSTS (an internal name, an
    IP) got Django's HTML "Bad Request (400)" page, with nothing to say why and no JSON to
    parse. The host it sent is not repeated: it is whatever the caller put there."""
    response = client.get(path, HTTP_HOST="internal-lb.example.net")

    error = assert_error(response, 400, "bad_request")
    assert "Host" in error["message"]
    assert "internal-lb" not in response.content.decode()


def test_a_page_outside_the_api_keeps_djangos_plain_400(client):
    response = client.get("/admin/", HTTP_HOST="internal-lb.example.net")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")

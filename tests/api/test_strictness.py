"""Strict everywhere: what an operation does not take is refused and named, never ignored.
Unknown or repeated query parameters, bad page sizes, empty filter values, bodies that are not
JSON, and methods an endpoint does not have."""

import json
import re

import pytest

from api.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize(
    ("method", "path", "unknown"),
    [
        ("get", "/api/v1/tenants/acme/runs?flow_id=f1", "flow_id"),
        ("get", "/api/v1/tenants?statuses=active", "statuses"),
        ("get", "/api/v1/tenants/acme?expand=jobs", "expand"),
        ("get", "/api/v1/tenants/acme?limit=5", "limit"),
        ("post", "/api/v1/tenants/acme/provision?force=true", "force"),
        ("post", "/api/v1/webhooks/endpoints?limit=5", "limit"),
        ("get", "/api/v1/webhooks/deliveries?endpoint_id=x", "endpoint_id"),
        ("get", "/api/v1/webhooks/events?created_after=2026-12-01T00:00:00Z", "created_after"),
    ],
)
def test_it_refuses_an_unknown_query_parameter_and_names_it(api, acme, method, path, unknown):
    response = getattr(api, method)(path)

    error = assert_error(response, 400, "invalid_fields")
    assert list(error["fields"]) == [unknown]
    assert unknown in error["message"]


def test_it_names_the_parameters_an_operation_takes(api, acme):
    error = assert_error(api.get("/api/v1/tenants/acme/runs?flow_id=f1"), 400, "invalid_fields")
    assert "flow" in error["fields"]["flow_id"][0]


def test_it_takes_the_pagination_parameters_where_a_list_paginates(api, acme):
    assert api.get("/api/v1/tenants?limit=5&status=awaiting_credentials").status_code == 200
    assert api.get("/api/v1/tenants/acme/jobs?limit=5").status_code == 200


def test_it_refuses_a_query_parameter_given_twice(api, acme):
    error = assert_error(
        api.get("/api/v1/tenants?status=active&status=failed"), 400, "invalid_fields"
    )
    assert list(error["fields"]) == ["status"]


@pytest.mark.parametrize("limit", ["abc", "0", "101", "null", "-1", "2.5", ""])
def test_it_refuses_a_page_size_out_of_bounds(api, acme, limit):
    error = assert_error(api.get(f"/api/v1/tenants?limit={limit}"), 400, "invalid_fields")
    assert list(error["fields"]) == ["limit"]


@pytest.mark.parametrize("days", ["%207", "7%20", "%2B7", "%EF%BC%97", "1_0", "7.0", "7.000"])
def test_a_whole_number_in_the_query_is_taken_as_sent(api, acme, days):
    # As `limit` is: digits only. Python's int() (DRF's reading) would also take " 7", "+7",
    # a full-width digit, "1_0" and "7.0", none of which the document's integer describes.
    error = assert_error(api.get(f"/api/v1/tenants/acme/costs?days={days}"), 400, "invalid_fields")

    assert error["fields"] == {"days": ["A whole number from 1 to 90."]}
    assert api.get("/api/v1/tenants/acme/costs?days=7").status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/tenants/acme/jobs?status=", "status"),
        ("/api/v1/tenants?template=", "template"),
        ("/api/v1/orphans?kind=", "kind"),
        ("/api/v1/tenants/acme/runs?status=", "status"),
        ("/api/v1/webhooks/deliveries?tenant=", "tenant"),
    ],
)
def test_it_refuses_an_empty_filter_value_instead_of_ignoring_it(api, acme, path, field):
    error = assert_error(api.get(path), 400, "invalid_fields")
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(
    ("path", "field", "message"),
    [
        (
            "/api/v1/audit-events?actor_type=robot",
            "actor_type",
            "Not an actor type; one of api_key, user, connect_link, system, command, anonymous.",
        ),
        (
            "/api/v1/orphans?status=closed",
            "status",
            "Not an orphan status; one of open, deleted, adopted, gone.",
        ),
        (
            "/api/v1/orphans?kind=flow",
            "kind",
            "Not an orphan kind; one of integration, duplicate_integration, connection.",
        ),
        (
            "/api/v1/tenants/acme/connect-links?state=used",
            "state",
            "Not a link state; one of active, expired, revoked.",
        ),
    ],
)
def test_an_unknown_choice_in_a_filter_is_answered_with_the_values_taken(
    api, acme, path, field, message
):
    """As the tenant, job, run, delivery and rollout lists' filters are; these said only
    '"robot" is not a valid choice.', and the caller had to find the values elsewhere."""
    error = assert_error(api.get(path), 400, "invalid_fields")

    assert error["fields"] == {field: [message]}


@pytest.mark.parametrize(
    ("path", "content_type", "named"),
    [
        ("/api/v1/tenants", "text/plain", '"text/plain"'),
        ("/api/v1/tenants", "application/x-www-form-urlencoded", "x-www-form-urlencoded"),
        ("/api/v1/tenants/acme/provision", "text/plain; charset=utf-8", '"text/plain'),
        ("/api/v1/tenants/acme/provision", "", "no Content-Type"),
    ],
)
def test_it_refuses_a_body_that_is_not_json_and_names_its_type(
    api, acme, path, content_type, named
):
    body = b'{"external_id": "initech", "name": "Initech", "template": "shop-to-erp"}'
    response = api.generic("POST", path, body, content_type=content_type)

    error = assert_error(response, 415, "unsupported_media_type")
    assert named in error["message"]
    assert "Content-Type: application/json" in error["message"]


def test_it_reads_a_json_body_sent_with_a_json_suffix_type(api, template):
    body = b'{"external_id": "initech", "name": "Initech", "template": "shop-to-erp"}'
    response = api.generic(
        "POST", "/api/v1/tenants", body, content_type="application/merge-patch+json"
    )
    assert response.status_code == 201, response.content


def test_it_answers_405_to_an_undeclared_method_before_claiming_the_idempotency_key(api, acme):
    response = api.put("/api/v1/tenants/acme/provision", HTTP_IDEMPOTENCY_KEY="key-1")

    assert_error(response, 405, "method_not_allowed")
    assert not IdempotencyRecord.objects.exists()


def test_an_unknown_path_is_a_404_whatever_its_query_string_or_method(api):
    assert_error(api.get("/api/v1/nothing?x=1"), 404, "not_found")
    assert_error(api.generic("PURGE", "/api/v1/nothing"), 404, "not_found")


def _write_operations():
    from django.urls import resolve
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        view_class = resolve(re.sub(r"\{[^}]+\}", "x", path)).func.view_class
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                yield path, method, view_class, operation


def test_the_handlers_that_read_a_body_are_the_operations_documented_with_one():
    mismatches = [
        (path, method)
        for path, method, view_class, operation in _write_operations()
        if (method in view_class.body_handlers) != ("requestBody" in operation)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tenants/acme/repair", b'{"force": true}'),
        ("/api/v1/tenants/acme/provision", b'{"force": true, "now": 1}'),
        ("/api/v1/tenants/acme/pin", b'{"version": "1.0.0"}'),
    ],
)
def test_it_refuses_a_field_sent_to_an_operation_that_takes_no_body(api, acme, path, body):
    response = api.generic("POST", path, body, content_type="application/json")

    error = assert_error(response, 400, "invalid_fields")
    assert sorted(error["fields"]) == sorted(json.loads(body))
    assert "takes no body" in error["fields"][next(iter(error["fields"]))][0]
    assert not acme.jobs.exists()


@pytest.mark.parametrize("path", ["/api/v1/tenants/acme/repair", "/api/v1/tenants/acme/unpin"])
def test_it_refuses_malformed_json_sent_to_an_operation_that_takes_no_body(api, acme, path):
    response = api.generic("POST", path, b"garbage", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]["message"]


def test_an_empty_object_is_no_body(api, acme):
    response = api.generic(
        "POST", "/api/v1/tenants/acme/pin", b"{}", content_type="application/json"
    )
    assert response.status_code == 200, response.content


def test_it_refuses_a_body_field_given_twice_and_names_it(api, template):
    body = b'{"external_id": "initech", "external_id": "initech-2", "name": "I", "name": "J",'
    body += b' "template": "shop-to-erp"}'
    response = api.generic("POST", "/api/v1/tenants", body, content_type="application/json")

    error = assert_error(response, 400, "invalid_fields")
    assert sorted(error["fields"]) == ["external_id", "name"]
    assert not IdempotencyRecord.objects.exists()
    assert api.get("/api/v1/tenants/initech-2").status_code == 404


def test_it_refuses_a_name_given_twice_inside_a_nested_object(api, acme):
    body = b'{"settings": {"sync_interval_minutes": 30, "sync_interval_minutes": 60}}'
    response = api.generic("PATCH", "/api/v1/tenants/acme", body, content_type="application/json")

    error = assert_error(response, 400, "invalid_fields")
    assert list(error["fields"]) == ["sync_interval_minutes"]


@pytest.mark.parametrize("value", ["json", "csv", "api", "xml", "yaml", ""])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/tenants"),
        ("get", "/api/v1/tenants/acme"),
        ("get", "/api/v1/audit-events.csv"),
        ("post", "/api/v1/tenants/acme/provision"),
        ("post", "/api/v1/tenants"),
    ],
)
def test_it_refuses_format_as_any_unknown_query_parameter(api, acme, method, path, value):
    # DRF reads `?format=` as a renderer override and answers an unknown one 404 before the
    # view runs; the API has no such parameter.
    response = getattr(api, method)(f"{path}?format={value}")

    error = assert_error(response, 400, "invalid_fields")
    assert list(error["fields"]) == ["format"]
    assert "Unknown query parameter" in error["fields"]["format"][0]
    assert not acme.jobs.exists()


@pytest.mark.parametrize(
    ("value", "content_type"),
    [("json", "application/vnd.oai.openapi+json"), ("yaml", "application/vnd.oai.openapi")],
)
def test_the_openapi_document_still_takes_its_format_parameter(api, value, content_type):
    response = api.get(f"/api/schema/?format={value}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)


def _get_operations_with_query_parameters():
    """Every GET of api/urls.py that takes query parameters, once per parameter."""
    from api import urls

    seen = set()
    for pattern in urls.urlpatterns:
        route = str(pattern.pattern)
        view = getattr(pattern.callback, "view_class", None)
        if route.endswith("/") or route.startswith("^") or view is None or view in seen:
            continue
        seen.add(view)
        if not hasattr(view, "get"):
            continue
        # The query string is checked before anything is looked up: ids need not exist.
        path = "/api/v1/" + re.sub(
            r"<str:(\w+)>", lambda m: "acme" if m[1] == "external_id" else f"no-such-{m[1]}", route
        )
        for name in view().known_query_parameters("get"):
            yield pytest.param(path, name, id=f"{path}?{name}=")


def test_every_list_endpoint_is_covered_below():
    listed = {path for path, _ in (p.values for p in _get_operations_with_query_parameters())}
    assert {
        "/api/v1/tenants",
        "/api/v1/audit-events",
        "/api/v1/webhooks/deliveries",
        "/api/v1/webhooks/events",
        "/api/v1/webhooks/endpoints",
        "/api/v1/rollouts",
        "/api/v1/rollouts/no-such-rollout_id/tenants",
        "/api/v1/orphans",
        "/api/v1/tenants/acme/jobs",
        "/api/v1/tenants/acme/runs",
        "/api/v1/tenants/acme/connect-links",
    } <= listed


@pytest.mark.parametrize(("path", "name"), list(_get_operations_with_query_parameters()))
def test_it_refuses_an_empty_value_of_every_query_parameter(api, acme, path, name):
    # No parameter of the API takes an empty value: `?cursor=` is no cursor the API made,
    # `?search=` no search. Silently reading it as "not given" would hide the client's bug.
    error = assert_error(api.get(f"{path}?{name}="), 400, "invalid_fields")

    assert list(error["fields"]) == [name]


@pytest.fixture
def endpoint_path(api):
    created = api.post(
        "/api/v1/webhooks/endpoints", {"url": "https://h.example.com"}, format="json"
    )
    return f"/api/v1/webhooks/endpoints/{created.json()['id']}"


_ORIGIN = "https://app.example.com"
_TENANT = {"external_id": "initech", "name": "Initech", "template": "shop-to-erp"}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "post",
            "/api/v1/tenants",
            {**_TENANT, "allowed_origins": [_ORIGIN] * 2},
            "allowed_origins",
        ),
        ("patch", "/api/v1/tenants/acme", {"allowed_origins": [_ORIGIN] * 2}, "allowed_origins"),
        ("post", "/api/v1/tenants/acme/connect-links", {"sections": ["runs", "runs"]}, "sections"),
        (
            "post",
            "/api/v1/webhooks/endpoints",
            {"url": "https://h.example.com", "event_types": ["tenant.failed"] * 2},
            "event_types",
        ),
        (
            "patch",
            "ENDPOINT",
            {"event_types": ["run.failed", "tenant.failed", "run.failed"]},
            "event_types",
        ),
        (
            "post",
            "/api/v1/templates/shop-to-erp/rollouts",
            {"to_version": "1.0.0", "strategy": "canary", "canary_tenants": ["acme", "acme"]},
            "canary_tenants",
        ),
        (
            "post",
            "/api/v1/tenants/acme/runs/r1/errors/resolve",
            {"error_ids": ["e1", "e1"]},
            "error_ids",
        ),
        (
            "post",
            "/api/v1/tenants/acme/runs/r1/errors/retry",
            {"error_ids": ["e1", "e1"]},
            "error_ids",
        ),
    ],
)
def test_it_refuses_a_list_that_names_an_item_twice(
    api, acme, endpoint_path, method, path, body, field
):
    # Every list a body takes: a duplicate is refused and named, never merged quietly.
    path = endpoint_path if path == "ENDPOINT" else path
    before = api.get(endpoint_path).json()

    error = assert_error(getattr(api, method)(path, body, format="json"), 400, "invalid_fields")

    assert list(error["fields"]) == [field]
    assert "more than once" in error["fields"][field][0]
    assert api.get(endpoint_path).json() == before
    assert api.get("/api/v1/tenants/initech").status_code == 404


def test_the_document_says_every_list_a_body_takes_names_each_item_once():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    lists = {
        (name, field): schema.get("uniqueItems")
        for name, component in schemas.items()
        if name.endswith("Request")
        for field, schema in component.get("properties", {}).items()
        if schema.get("type") == "array"
    }
    assert ("WebhookEndpointCreateInputRequest", "event_types") in lists
    assert {key for key, unique in lists.items() if not unique} == set()


def _paginated_list_paths():
    # The rollout's tenants need a rollout before the page is read: the other lists suffice.
    operations = (p.values for p in _get_operations_with_query_parameters())
    return sorted({path for path, name in operations if name == "cursor" and "no-such" not in path})


@pytest.mark.parametrize("path", _paginated_list_paths())
@pytest.mark.parametrize(
    "cursor",
    [
        "%00",  # decodes to nothing: was read as the first page
        "%21%21%21%21",  # no base64 at all
        "bm90IGEgY3Vyc29y",  # base64 of words, not of a cursor
        "eD0x",  # base64 of "x=1": a query string with none of a cursor's keys
        "cD0x%00",  # a cursor with a byte the base64 alphabet does not have
        "cD1nYXJiYWdl",  # base64 of "p=garbage": a position that is no time (was a 500)
        "cD0yMDI2LTEzLTQ1VDAwOjAwOjAw",  # a position on no day of the calendar
        "bz05OTk5OTk5OTk5OTk5OTk5OTk5OQ%3D%3D",  # an offset past what the database counts
        "YXwxfDAwMDEtMDEtMDFUMDA6MDA6MDArMjM6NTk",  # a keyset time before the year 1 in UTC
        "YnwxfDk5OTktMTItMzFUMjM6NTk6NTktMjM6NTk",  # a keyset time after the year 9999 in UTC
    ],
)
def test_it_refuses_a_cursor_it_did_not_make_on_every_list(api, acme, path, cursor):
    # Every list answers as the tenant list does: a 400 naming `cursor`, never a first page.
    error = assert_error(api.get(f"{path}?cursor={cursor}"), 400, "invalid_fields")

    assert list(error["fields"]) == ["cursor"]

"""The OpenAPI document is valid and describes every endpoint, its auth and its errors."""

import inspect
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]

OPERATIONS = {
    ("/api/v1/templates", "get"),
    ("/api/v1/templates/{key}", "get"),
    ("/api/v1/templates/{key}/versions", "get"),
    ("/api/v1/templates/{key}/versions/{version}", "get"),
    ("/api/v1/templates/{key}/versions/{a}/diff/{b}", "get"),
    ("/api/v1/templates/{key}/versions/{version}/retire", "post"),
    ("/api/v1/tenants", "get"),
    ("/api/v1/tenants", "post"),
    ("/api/v1/tenants/{external_id}", "get"),
    ("/api/v1/tenants/{external_id}", "patch"),
    ("/api/v1/tenants/{external_id}", "delete"),
    ("/api/v1/tenants/{external_id}/connect-links", "post"),
    ("/api/v1/tenants/{external_id}/connections/{slot_key}", "put"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_it_is_a_valid_openapi_3_document(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3.0 meta-schema
    assert schema["openapi"].startswith("3.")


def test_it_lists_every_tenant_and_template_operation(schema):
    found = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert OPERATIONS.issubset(found)
    # The catch-all for unknown paths is not an operation.
    assert not any("(" in path or "*" in path for path, _ in found)


def test_every_operation_needs_an_api_key_sent_as_a_bearer_token(schema):
    # HTTP bearer: Swagger UI's "Authorize" box then takes the key alone and sends
    # `Authorization: Bearer <key>`.
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "Authorization: Bearer <key>" in scheme["description"]
    for path, method in OPERATIONS:
        # With the scope the operation needs (tests/api/test_scopes.py checks which).
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"ApiKey": [operation["x-required-scope"]]}]


def test_every_operation_documents_the_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, method in OPERATIONS:
        responses = schema["paths"][path][method]["responses"]
        for status in ("400", "401", "404"):
            assert responses[status]["content"]["application/json"]["schema"] == error


def test_every_write_documents_the_idempotency_key(schema):
    for path, method in OPERATIONS - {(p, m) for p, m in OPERATIONS if m == "get"}:
        names = [p["name"] for p in schema["paths"][path][method]["parameters"]]
        assert "Idempotency-Key" in names


def _writes(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                yield f"{method} {path}", operation


def test_every_write_names_the_idempotency_conflicts_among_its_own(schema):
    # An operation that described its own 409 (`job_in_progress`, say) replaced the general
    # one, and with it the only word on a key whose first request is still running.
    for name, operation in _writes(schema):
        conflict = operation["responses"]["409"]
        assert "`idempotency_request_in_progress`" in conflict["description"], name
        assert "Retry-After" in conflict.get("headers", {}), name
        assert "`idempotency_key_reused`" in operation["responses"]["422"]["description"], name


def test_every_answer_a_write_may_replay_documents_the_replayed_header(schema):
    # A replayed answer says `Idempotent-Replayed: true` (README: API conventions); a client
    # generated from the document should know the header, on every answer that may be a
    # replay: those kept (2xx, and a 404, 409 or 422 the handler gave), never a 400, 429 or
    # 5xx, which are not kept.
    for name, operation in _writes(schema):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            if status.startswith("2") or status in ("404", "409", "422"):
                assert headers["Idempotent-Replayed"]["schema"] == {
                    "type": "string",
                    "enum": ["true"],
                }, (name, status)
            else:
                assert "Idempotent-Replayed" not in headers, (name, status)


def test_an_orphans_tenant_is_always_in_its_answer_so_the_document_requires_it(schema):
    # Null when no tenant of its mark exists, but always there (tests/provisioning/
    # test_orphans.py lists one without a tenant): a client generated from the document
    # typed it as possibly absent as well as null.
    orphan = schema["components"]["schemas"]["OrphanOutput"]
    assert "tenant" in orphan["required"]
    assert orphan["properties"]["tenant"]["type"] == ["string", "null"]


def test_every_answer_documents_the_request_id_it_carries(schema, client):
    # Every answer says X-Request-ID (config/request_id.py): the id on the service's log lines
    # and the audit log's `request_id` filter, for a host app to log and quote. A client
    # generated from the document should know it, on every answer of every operation.
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                header = response.get("headers", {}).get("X-Request-ID")
                assert header and header["required"] is True, (method, path, status)
                assert header["schema"]["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    sent = client.get("/api/v1/tenants", HTTP_X_REQUEST_ID="host-app.req-1")
    assert sent["X-Request-ID"] == "host-app.req-1"
    assert re.fullmatch(header["schema"]["pattern"], client.get("/api/v1/tenants")["X-Request-ID"])


def test_it_serves_the_schema_as_json(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Embedded integrations API"


@pytest.mark.parametrize(
    ("query", "accept", "status", "said"),
    [
        ("?format=xml", "*/*", 404, "json or yaml"),
        ("", "text/html", 406, "json or yaml"),
    ],
)
def test_a_format_it_does_not_serve_is_answered_in_the_apis_json_error_shape(
    client, query, accept, status, said
):
    # The document's own renderers (YAML first) used to write the error: a YAML body that
    # called itself an OpenAPI document.
    response = client.get(f"/api/schema/{query}", HTTP_ACCEPT=accept)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert said in error["message"]
    assert "no-store" in response["Cache-Control"]


def test_it_generates_without_warnings(tmp_path):
    # Name clashes between components or enums make generated clients wrong; fail early.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


def test_a_run_is_called_a_run_and_never_a_job(schema):
    # "job" is the service's own provisioning job; integrator.io's run of a flow is a run.
    run_paths = [path for path in schema["paths"] if "/runs" in path or "/flows" in path]
    assert "/api/v1/tenants/{external_id}/runs/{run_id}/errors" in run_paths
    components = schema["components"]["schemas"]
    run_components = [
        name for name in components if name.startswith(("FlowRun", "HealthLastRun", "TenantHealth"))
    ]
    assert run_components
    for name in run_components:
        assert "job_id" not in components[name].get("properties", {}), name
    assert "job_id" not in str(schema.get("webhooks", {}))


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


TAG_ORDER = [
    "tenants",
    "connections",
    "templates",
    "jobs",
    "rollouts",
    "runs",
    "webhooks",
    "orphans",
    "audit",
    "meta",
]


def test_it_is_openapi_3_1_so_that_it_can_describe_webhooks(schema):
    assert schema["openapi"].startswith("3.1")


def test_every_operation_has_a_one_line_summary(schema):
    for path, method, operation in _operations(schema):
        summary = operation.get("summary", "")
        assert summary, (method, path)
        assert "\n" not in summary and len(summary) <= 60, (method, path, summary)
    summaries = [operation["summary"] for _, _, operation in _operations(schema)]
    assert len(set(summaries)) == len(summaries)


def test_the_tags_come_in_order_and_every_operation_has_one_of_them(schema):
    assert [tag["name"] for tag in schema["tags"]] == TAG_ORDER
    assert all(tag.get("description") for tag in schema["tags"])
    used = {tag for _, _, operation in _operations(schema) for tag in operation["tags"]}
    assert used == set(TAG_ORDER)
    connect_links = schema["paths"]["/api/v1/tenants/{external_id}/connect-links"]["post"]
    assert connect_links["tags"] == ["connections"]


def test_no_internal_docstring_reaches_the_document(schema):
    from api.jobs import _JobRequestApi
    from api.serializers import InputSerializer
    from api.views import ApiView

    document = json.dumps(schema)
    for internal in (ApiView, InputSerializer, _JobRequestApi):
        first_line = inspect.getdoc(internal).splitlines()[0]
        assert json.dumps(first_line)[1:-1] not in document, internal
    assert "once the engine exists" not in document


def test_every_event_type_is_a_documented_webhook_with_its_signature_headers(schema):
    from webhooks.models import EventType

    assert set(schema["webhooks"]) == set(EventType.values)
    for event_type, path_item in schema["webhooks"].items():
        operation = path_item["post"]
        assert operation["summary"], event_type
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        assert {"id", "type", "created_at", "tenant", "data"} <= set(component["properties"])
        assert event_type in json.dumps(component["properties"]["type"]), event_type
        # Which incarnation of the tenant, beside its external_id (null tenant: none).
        [ref] = re.findall(r'"\$ref": "[^"]*/(\w+)"', json.dumps(component["properties"]["tenant"]))
        tenant = schema["components"]["schemas"][ref]
        assert set(tenant["properties"]) == {"external_id", "incarnation"}, event_type
    run_failed = schema["webhooks"]["run.failed"]["post"]["requestBody"]["content"]
    run_failed = run_failed["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    data = schema["components"]["schemas"][run_failed]["properties"]["data"]
    data = schema["components"]["schemas"][data["$ref"].rsplit("/", 1)[1]]
    assert "run_id" in data["properties"]


def test_the_integrator_and_orphan_events_document_the_account_their_data_names(schema):
    # With customers on several integrator.io accounts, `account` is what says whose
    # integrations wait: the body carries it, and so must its description.
    components = schema["components"]["schemas"]

    def ref(node):
        node = node["allOf"][0] if "allOf" in node else node  # a described reference
        return components[node["$ref"].rsplit("/", 1)[1]]

    for event_type in ("integrator.unavailable", "integrator.recovered"):
        body = schema["webhooks"][event_type]["post"]["requestBody"]["content"]
        data = ref(ref(body["application/json"]["schema"])["properties"]["data"])
        assert {"episode", "at", "failures", "account"} <= set(data["properties"]), event_type
        assert "account" in data["required"]
        account = ref(data["properties"]["account"])
        assert set(account["properties"]) == {"key", "name", "region"}
    body = schema["webhooks"]["orphan.found"]["post"]["requestBody"]["content"]
    data = ref(ref(body["application/json"]["schema"])["properties"]["data"])
    assert data["properties"]["account"]["type"] == "string"


def test_the_delete_answer_documents_its_job(schema):
    answer = schema["paths"]["/api/v1/tenants/{external_id}"]["delete"]["responses"]["202"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    job = schema["components"]["schemas"][ref]["properties"]["job"]
    assert "deprovision" in json.dumps(job)


def test_request_bodies_refuse_undeclared_fields(schema):
    # The API refuses them (InputSerializer); the document must say so.
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for _, _, operation in _operations(schema)
        if "requestBody" in operation
    ]
    assert bodies
    for ref in bodies:
        component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert component["additionalProperties"] is False, ref


def test_list_parameters_state_their_bounds(schema):
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/tenants"]["get"]["parameters"]
    }
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 100)
    assert parameters["cursor"]["maxLength"] == 200
    assert parameters["template"]["maxLength"] == 64
    assert parameters["search"]["maxLength"] == 200


CALLING_INTEGRATOR_IO = [
    ("/api/v1/tenants/{external_id}/connections/{slot_key}", "put"),
    ("/api/v1/tenants/{external_id}/flows/{flow_id}/run", "post"),
    ("/api/v1/tenants/{external_id}/runs/{run_id}/errors", "get"),
    ("/api/v1/orphans/{orphan_id}/delete", "post"),
    ("/api/v1/orphans/{orphan_id}/adopt", "post"),
    ("/api/v1/tenants/{external_id}/plan", "get"),
]


@pytest.mark.parametrize(("path", "method"), CALLING_INTEGRATOR_IO)
def test_operations_that_call_integrator_io_document_its_refusals(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    assert "rate_limited" in responses["429"]["description"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "integrator_unavailable" in responses["503"]["description"]
    assert "Retry-After" in responses["503"]["headers"]
    assert "422" in responses


def test_every_link_names_an_operation_and_its_path_parameters(schema):
    operations = {
        operation["operationId"]: (path, operation) for path, _, operation in _operations(schema)
    }
    links = [
        link
        for _, _, operation in _operations(schema)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 15
    for link in links:
        path, _ = operations[link["operationId"]]
        assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", path)), link


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_it_spells_or_null_the_openapi_3_1_way(schema):
    # `nullable` is OpenAPI 3.0's; a 3.1 validator ignores it and then refuses the null.
    assert [node for node in _walk(schema) if "nullable" in node] == []


def test_a_last_page_matches_its_schema(api, schema):
    from jsonschema import Draft202012Validator

    document = json.loads(json.dumps(schema, default=str))
    page = api.get("/api/v1/tenants").json()
    assert page["next"] is None and page["previous"] is None
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/PaginatedTenantOutputList", **document}
    )
    assert list(validator.iter_errors(page)) == []


@pytest.mark.parametrize(
    "operation_id, statuses",
    [
        ("tenants_create", ("200", "201")),
        ("tenants_provision", ("202",)),
        ("tenants_repair", ("202",)),
        ("tenants_destroy", ("202",)),
        ("tenants_upgrade", ("202",)),
        ("rollouts_create", ("201",)),
        ("tenants_connect_links_create", ("201",)),
        ("webhook_endpoints_create", ("201",)),
        ("webhook_endpoints_ping", ("202",)),
        ("webhook_deliveries_replay", ("202",)),
        ("jobs_retry", ("202",)),
    ],
)
def test_answers_that_say_where_the_thing_is_document_their_location_header(
    schema, operation_id, statuses
):
    # These answers carry Location (the tenant, the queued job, the rollout; README: a
    # rollout's "Location: /api/v1/rollouts/{id}"), and a client generated from the document
    # should know it.
    (operation,) = [
        op
        for operations in schema["paths"].values()
        for op in operations.values()
        if isinstance(op, dict) and op.get("operationId") == operation_id
    ]

    for status in statuses:
        headers = operation["responses"][status].get("headers", {})
        assert "Location" in headers, (operation_id, status)
        assert headers["Location"]["schema"] == {"type": "string", "format": "uri-reference"}


def test_every_time_is_typed_as_a_date_time(schema):
    # A client generated from the document parses `*_at` fields as times only when the
    # document says they are (a method field or a raw value says nothing by itself).
    untyped = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, spec in (component.get("properties") or {}).items()
        if field.endswith("_at") and spec.get("format") != "date-time"
    ]

    assert untyped == []


def test_every_error_answer_of_every_operation_documents_the_error_shape(schema):
    """A client generated from the document parses each error it can get: the plan's 409 and
    422, a run's errors' 422, the drift's 409 and a flow run's 502 had no content, so a
    generated client knew no `error.code` there."""
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if int(status) >= 400:
                    content = response.get("content", {}).get("application/json", {})
                    assert content.get("schema") == error, (method, path, status)


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        (
            "/api/v1/templates/{key}/rollouts",
            "post",
            ("rollout_in_progress", "version_retired", "nothing_to_roll_out"),
        ),
        ("/api/v1/rollouts/{rollout_id}/pause", "post", ("invalid_rollout_transition",)),
        (
            "/api/v1/rollouts/{rollout_id}/resume",
            "post",
            ("invalid_rollout_transition", "rollout_in_progress"),
        ),
        ("/api/v1/rollouts/{rollout_id}/abort", "post", ("invalid_rollout_transition",)),
        (
            "/api/v1/rollouts/{rollout_id}/rollback",
            "post",
            ("invalid_rollout_transition", "rollout_in_progress"),
        ),
        (
            "/api/v1/tenants/{external_id}/upgrade",
            "post",
            (
                "tenant_deprovisioned",
                "tenant_version_conflict",
                "version_retired",
                "job_in_progress",
                "job_not_allowed",
            ),
        ),
        (
            "/api/v1/templates/{key}/versions/{version}/retire",
            "post",
            ("template_version_current",),
        ),
        ("/api/v1/orphans/{orphan_id}/delete", "post", ("orphan_not_actionable",)),
        (
            "/api/v1/orphans/{orphan_id}/adopt",
            "post",
            ("orphan_not_actionable", "tenant_deprovisioned"),
        ),
        ("/api/v1/jobs/{job_id}/cancel", "post", ("job_finished",)),
    ],
)
def test_a_409_names_the_codes_it_answers_with(schema, path, method, codes):
    """A host app branches on `error.code`: the document must say which ones a conflict has.
    These said it in words only ("Not possible in the rollout's status")."""
    description = schema["paths"][path][method]["responses"]["409"]["description"]
    for code in codes:
        assert f"`{code}`" in description, code


def test_a_flow_runs_502_names_its_code_and_what_to_do(schema):
    """The run-now 502 said "the run may have started" but not `run_outcome_unknown`, the
    code a host app branches on (README, "API conventions", Errors, names it)."""
    from runs.errors import RunOutcomeUnknown

    responses = schema["paths"]["/api/v1/tenants/{external_id}/flows/{flow_id}/run"]["post"]
    description = responses["responses"]["502"]["description"]
    assert f"`{RunOutcomeUnknown.code}`" in description
    assert "runs" in description and "before asking again" in description
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    assert f"502 `{RunOutcomeUnknown.code}`" in readme


def test_a_jobs_and_an_events_fixed_words_are_enums_wherever_they_appear(schema):
    """A tenant's `current_job` and `last_job` (and the job a PATCH, a DELETE or a PUT of
    credentials answers with) were plain strings, where `GET /jobs/{id}` lists the kinds and
    statuses; a delivery's `event.type` was a plain string beside a filter that lists the
    types. A client generated from the document got a string for one and an enum for the
    other."""
    components = schema["components"]["schemas"]
    brief = components["JobSummaryOutput"]["properties"]
    assert brief["kind"] == {"$ref": "#/components/schemas/JobKindEnum"}
    assert brief["status"] == {"$ref": "#/components/schemas/JobStatusEnum"}
    event = components["WebhookEventOutput"]["properties"]
    assert event["type"] == {"$ref": "#/components/schemas/EventTypeEnum"}
    assert "ping" in components["EventTypeEnum"]["enum"]


def test_a_connect_links_return_url_says_what_it_is_for(schema):
    """It said only "On one of the tenant's allowed_origins": a host app's developer could not
    tell where the customer is sent, or when."""
    link = schema["components"]["schemas"]["ConnectLinkInputRequest"]["properties"]
    described = link["return_url"]["description"]
    assert "Continue button" in described and "whole window" in described
    assert "allowed_origins" in described


@pytest.mark.parametrize(
    "component, field, values",
    [
        (
            "TenantOutput",
            "status",
            (
                "awaiting_credentials",
                "provisioning",
                "active",
                "degraded",
                "failed",
                "deprovisioning",
                "deprovisioned",
            ),
        ),
        ("ConnectionHealthOutput", "status", ("ok", "failed", "missing")),
        ("WebhookDeliveryOutput", "status", ("pending", "delivered", "failed", "dead", "canceled")),
    ],
)
def test_every_status_says_what_each_of_its_values_means(schema, component, field, values):
    """The README's table gave each status one meaning, but the document a host app's
    developer reads (/api/docs/) listed the values with no word on any: `failed` of a tenant
    (building failed) and of a delivery (no more retries), `missing` of a connection."""
    described = schema["components"]["schemas"][component]["properties"][field].get(
        "description", ""
    )
    for value in values:
        assert f"`{value}`" in described, (component, value)


@pytest.mark.parametrize(
    "component, fields",
    [
        (
            "TenantOutput",
            (
                "status_changed_at",
                "integration_id",
                "current_job",
                "last_job",
                "last_error",
                "allowed_origins",
            ),
        ),
        ("ConnectionHealthOutput", ("connection_id", "last_ping_at", "last_ping_error")),
        ("WebhookDeliveryOutput", ("attempts", "next_attempt_at", "last_error", "replay_of")),
    ],
)
def test_the_status_views_fields_are_described(schema, component, fields):
    properties = schema["components"]["schemas"][component]["properties"]
    for field in fields:
        assert properties[field].get("description"), (component, field)

"""A run's errors, Error Management 2.0 and 1.0: read and mirrored (GET …/errors), resolved
(POST …/errors/resolve) and retried (POST …/errors/retry), against the sandbox."""

import pytest

from runs.models import FlowRun, FlowRunError
from runs.sync import tenant_runs_sync
from tests.fixtures.live_tenants import run_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def partial(account, make_tenant, runs_client):
    """acme, with one synced run of its first flow whose import rejected 3 of 5 records."""
    tenant = make_tenant("acme")
    run_flow(account, tenant.flow_ids[0], [{"numRecords": 5, "numError": 3}])
    tenant_runs_sync(tenant=tenant.tenant, client=runs_client, counter=runs_client.counter)
    return FlowRun.objects.get(tenant=tenant.tenant)


def _path(run, tail=""):
    return f"/api/v1/tenants/acme/runs/{run.job_id}/errors{tail}"


def test_it_reads_em2_step_errors_and_mirrors_them(api, partial):
    response = api.get(_path(partial))

    assert response.status_code == 200
    errors = response.json()["errors"]
    assert len(errors) == 3
    assert all(e["step_id"] and e["retriable"] and not e["resolved"] for e in errors)
    assert set(errors[0]) == {
        "error_id",
        "step_id",
        "code",
        "message",
        "source",
        "created_at",
        "resolved",
        "resolved_at",
        "retriable",
        "trace_key",
    }
    # The record's key (integrator.io's traceKey), so that the host can say which record.
    assert sorted(e["trace_key"] for e in errors) == ["record-1", "record-2", "record-3"]
    mirrored = FlowRunError.objects.filter(run=partial)
    assert {row.error_id for row in mirrored} == {e["error_id"] for e in errors}
    assert all(row.retry_data_key for row in mirrored)


def test_reading_and_resolving_a_runs_errors_count_in_the_tenants_costs(api, partial):
    api.get(_path(partial))
    read = api.get("/api/v1/tenants/acme/costs?days=1").json()["totals"].get("runs", 0)
    api.post(_path(partial, "/resolve"), {}, format="json")
    resolved = api.get("/api/v1/tenants/acme/costs?days=1").json()["totals"].get("runs", 0)

    assert read >= 1
    assert resolved > read


def test_it_resolves_some_errors_then_all(api, partial):
    first = api.get(_path(partial)).json()["errors"][0]["error_id"]

    some = api.post(_path(partial, "/resolve"), {"error_ids": [first]}, format="json")
    rest = api.post(_path(partial, "/resolve"), {}, format="json")

    assert some.status_code == 200
    resolved = {e["error_id"] for e in some.json()["errors"] if e["resolved"]}
    assert resolved == {first}
    assert rest.status_code == 200
    assert all(e["resolved"] and e["resolved_at"] for e in rest.json()["errors"])
    assert FlowRunError.objects.filter(run=partial, resolved=False).count() == 0


def test_it_retries_and_shows_the_records_that_failed_again(api, account, partial):
    account.control.force_job_outcomes(partial.flow_id, [{"numError": 1}])

    response = api.post(_path(partial, "/retry"), {}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert len(body["retry_job_ids"]) == 1
    still_open = [e for e in body["errors"] if not e["resolved"]]
    assert len(still_open) == 1 and still_open[0]["retriable"]
    assert len([e for e in body["errors"] if e["resolved"]]) == 3


def test_retrying_a_run_whose_errors_are_all_resolved_says_so(api, partial):
    api.post(_path(partial, "/resolve"), {}, format="json")

    response = api.post(_path(partial, "/retry"), {}, format="json")

    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "no open errors" in message and "retry data" not in message


def test_it_refuses_unknown_error_ids_and_bad_bodies(api, partial):
    unknown = api.post(_path(partial, "/resolve"), {"error_ids": ["nope"]}, format="json")
    bad = api.post(_path(partial, "/retry"), {"error_ids": []}, format="json")
    no_run = api.post(
        "/api/v1/tenants/acme/runs/5eed00000000000000000bad/errors/retry", {}, format="json"
    )

    # The body names the errors, so an unknown one is a bad field (400 `invalid_fields` naming
    # `error_ids`), not a 404: the operation's 404 is its path's run (README, "API conventions").
    assert unknown.status_code == 400, unknown.json()
    assert unknown.json()["error"]["code"] == "invalid_fields"
    assert unknown.json()["error"]["fields"] == {"error_ids": ["not an error of the run: nope"]}
    assert bad.status_code == 400
    assert no_run.status_code == 404
    assert no_run.json()["error"]["code"] == "run_not_found"


def test_an_error_resolved_meanwhile_is_a_bad_field_and_the_answer_can_be_corrected(api, partial):
    first, second = [e["error_id"] for e in api.get(_path(partial)).json()["errors"]][:2]
    api.post(_path(partial, "/resolve"), {"error_ids": [first]}, format="json")
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-once"}

    stale = api.post(_path(partial, "/retry"), {"error_ids": [first]}, format="json", **headers)
    corrected = api.post(
        _path(partial, "/retry"), {"error_ids": [second]}, format="json", **headers
    )

    assert stale.status_code == 400, stale.json()
    assert stale.json()["error"]["fields"] == {
        "error_ids": [f"not an open error of the run: {first}"]
    }
    # A 400 leaves no answer to replay: the corrected request may use the same key.
    assert corrected.status_code == 202, corrected.json()


def test_an_em1_account_is_read_by_joberrors_and_cannot_resolve_or_retry(
    api, account, make_tenant, runs_client
):
    account.control.configure(error_management=1)
    tenant = make_tenant("acme")
    run_flow(account, tenant.flow_ids[0], ["failed"])
    tenant_runs_sync(tenant=tenant.tenant, client=runs_client, counter=runs_client.counter)
    run = FlowRun.objects.get(tenant=tenant.tenant)

    errors = api.get(_path(run))
    resolve = api.post(_path(run, "/resolve"), {}, format="json")
    retry = api.post(_path(run, "/retry"), {}, format="json")

    assert errors.status_code == 200
    (error,) = errors.json()["errors"]
    assert error["step_id"] is None and not error["retriable"]
    assert "export step failed" in error["message"]
    # A failed export read no record: there is no key to name.
    assert error["trace_key"] is None
    assert (resolve.status_code, retry.status_code) == (409, 409)
    assert resolve.json()["error"]["code"] == "error_management_unsupported"


def test_a_pinned_setting_skips_the_probe(api, account, partial, settings):
    settings.INTEGRATOR_ERROR_MANAGEMENT = "1"
    account.control.clear_requests_log()

    response = api.get(_path(partial))

    # Pinned to 1 on an EM 2.0 account: joberrors is the only path asked (and answers 404).
    assert response.status_code == 404
    paths = [entry["path"] for entry in account.control.requests_log()]
    assert not any(path.endswith("/errors") for path in paths)


@pytest.mark.parametrize("status", ["deprovisioning", "deprovisioned"])
@pytest.mark.parametrize("action", ["resolve", "retry"])
def test_a_tenant_being_removed_has_its_errors_neither_resolved_nor_retried(
    api, partial, status, action
):
    type(partial.tenant).objects.filter(pk=partial.tenant_id).update(status=status)

    response = api.post(_path(partial, f"/{action}"), {}, format="json")

    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "tenant_deprovisioned"
    assert FlowRunError.objects.filter(run=partial, resolved=True).count() == 0


def test_resolving_the_same_errors_again_is_safe(api, partial):
    # "Asking twice is safe" (the operation's description): a host app that sends its
    # resolve again (a lost answer, a retried job) gets the run's errors, not a 400, and an
    # id the run never had is still refused.
    first, second = [e["error_id"] for e in api.get(_path(partial)).json()["errors"]][:2]
    once = api.post(_path(partial, "/resolve"), {"error_ids": [first]}, format="json")

    again = api.post(_path(partial, "/resolve"), {"error_ids": [first]}, format="json")
    with_another = api.post(
        _path(partial, "/resolve"), {"error_ids": [first, second]}, format="json"
    )
    unknown = api.post(_path(partial, "/resolve"), {"error_ids": [first, "nope"]}, format="json")

    assert once.status_code == 200
    assert again.status_code == 200, again.json()
    assert {e["error_id"] for e in again.json()["errors"] if e["resolved"]} == {first}
    assert with_another.status_code == 200, with_another.json()
    assert {e["error_id"] for e in with_another.json()["errors"] if e["resolved"]} == {
        first,
        second,
    }
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {"error_ids": ["not an error of the run: nope"]}


def test_an_em1_accounts_record_errors_carry_their_record_key(
    api, account, make_tenant, runs_client
):
    account.control.configure(error_management=1)
    tenant = make_tenant("acme")
    run_flow(account, tenant.flow_ids[0], [{"numRecords": 5, "numError": 2}])
    tenant_runs_sync(tenant=tenant.tenant, client=runs_client, counter=runs_client.counter)
    run = FlowRun.objects.get(tenant=tenant.tenant)

    errors = api.get(_path(run)).json()["errors"]

    assert sorted(e["trace_key"] for e in errors) == ["record-1", "record-2"]
    assert sorted(FlowRunError.objects.filter(run=run).values_list("trace_key", flat=True)) == [
        "record-1",
        "record-2",
    ]


def test_the_document_describes_an_errors_record_key(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    field = schema["components"]["schemas"]["FlowRunErrorOutput"]["properties"]["trace_key"]

    assert field["type"] == ["string", "null"]
    assert "traceKey" in field["description"]


LEAKY_MESSAGE = (
    "GET https://erp.example.com/api/orders?api_key=abcd1234secretvalue returned 401: "
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"
)


@pytest.mark.parametrize("error_management", [2, 1])
def test_a_credential_an_app_repeated_in_an_error_is_masked_in_the_api_and_the_mirror(
    api, account, make_tenant, runs_client, error_management
):
    # An app that repeats the request it refused (its URL with the key in the query, the
    # header) puts the customer's credentials into the run's error: the integration page
    # masked them, but the API answered them to the host as they were, and the mirror (and
    # the admin, which shows it) kept them.
    account.control.configure(error_management=error_management)
    tenant = make_tenant("acme")
    outcome = {"status": "failed", "errorCode": "401", "errorMessage": LEAKY_MESSAGE}
    run_flow(account, tenant.flow_ids[0], [outcome])
    tenant_runs_sync(tenant=tenant.tenant, client=runs_client, counter=runs_client.counter)
    run = FlowRun.objects.get(tenant=tenant.tenant)

    response = api.get(_path(run))

    assert response.status_code == 200
    (error,) = response.json()["errors"]
    (mirrored,) = FlowRunError.objects.filter(run=run)
    for message in (error["message"], mirrored.message):
        assert "abcd1234secretvalue" not in message
        assert "eyJhbGciOiJIUzI1NiJ9" not in message
        # What failed still reads: the request and the app's answer.
        assert message.startswith("GET https://erp.example.com/api/orders?api_key=[REDACTED]")
        assert "returned 401" in message

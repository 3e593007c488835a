"""Error Management 2.0: per-step errors of runs, listed with nextPageURL, resolved, retried;
and the account switch between EM 2.0 (default) and EM 1.0 (joberrors)."""

import pytest


@pytest.fixture
def ids(control):
    """The seeded orders flow (one export, one import); runs end as soon as they are read."""
    control.configure(job_queue_seconds=0, job_run_seconds=0)
    seeded = control.seed()
    return {
        "flow": seeded["flowIds"][0],
        "export": seeded["exportIds"][0],
        "import": seeded["importIds"][0],
    }


def _run(api, control, flow_id: str, outcome) -> dict:
    control.force_job_outcomes(flow_id, [outcome])
    job_id = api.post(f"/flows/{flow_id}/run", json={}).json()["_jobId"]
    control.advance_job(job_id, to="end")
    return api.get(f"/jobs/{job_id}").json()


def test_a_partial_run_keeps_its_record_errors_under_the_import_step(api, control, ids):
    job = _run(api, control, ids["flow"], {"status": "completed", "numRecords": 5, "numError": 2})

    response = api.get(f"/flows/{ids['flow']}/{ids['import']}/errors")

    assert response.status_code == 200
    body = response.json()
    assert "nextPageURL" not in body
    assert len(body["errors"]) == 2
    error = body["errors"][0]
    assert {"errorId", "code", "message", "source", "occurredAt", "retryDataKey"} <= set(error)
    assert error["_flowJobId"] == job["_id"]
    # Each names its record by its key.
    assert sorted(e["traceKey"] for e in body["errors"]) == ["record-1", "record-2"]
    assert "resolvedAt" not in error
    assert api.get(f"/flows/{ids['flow']}/{ids['export']}/errors").json() == {"errors": []}
    # In EM 2.0 the old per-job path is gone.
    assert api.get(f"/jobs/{job['_id']}/joberrors").status_code == 404


def test_a_failed_export_has_one_error_that_cannot_be_retried(api, control, ids):
    job = _run(api, control, ids["flow"], "failed")

    (error,) = api.get(f"/flows/{ids['flow']}/{ids['export']}/errors").json()["errors"]

    assert job["status"] == "failed"
    assert error["_flowJobId"] == job["_id"]
    assert "retryDataKey" not in error
    # No record was read, so none is named.
    assert "traceKey" not in error


def test_errors_page_with_next_page_url_keeping_the_filters(api, control, ids):
    _run(api, control, ids["flow"], {"status": "completed", "numRecords": 250, "numError": 230})
    path = f"/flows/{ids['flow']}/{ids['import']}/errors"

    first = api.get(path, params={"source": "integrator.io"}).json()
    seen = list(first["errors"])
    url = first["nextPageURL"]
    while url:
        assert url.startswith(f"/v1{path}?") and "source=integrator.io" in url
        page = api.get(url.removeprefix("/v1")).json()
        seen += page["errors"]
        url = page.get("nextPageURL")

    assert len(first["errors"]) == 100
    assert len({error["errorId"] for error in seen}) == 230
    assert api.get(path, params={"source": "application"}).json() == {"errors": []}
    bad = api.get(path, params={"occurredAt_gte": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "invalid_query_params"


def test_resolving_moves_errors_to_resolved_and_counts_them_on_the_run(api, control, ids):
    job = _run(api, control, ids["flow"], {"status": "completed", "numRecords": 5, "numError": 3})
    path = f"/flows/{ids['flow']}/{ids['import']}"
    errors = api.get(f"{path}/errors").json()["errors"]

    response = api.put(
        f"{path}/resolved", json={"errors": [errors[0]["errorId"], "not-an-error-id"]}
    )

    assert response.status_code == 204
    assert len(api.get(f"{path}/errors").json()["errors"]) == 2
    (resolved,) = api.get(f"{path}/resolved").json()["resolved"]
    assert resolved["errorId"] == errors[0]["errorId"]
    assert resolved["resolvedBy"] == "user" and resolved["resolvedAt"]
    run = api.get(f"/jobs/{job['_id']}").json()
    assert (run["numOpenError"], run["numResolved"]) == (2, 1)


def test_retrying_creates_a_retry_job_and_records_that_fail_again_stay_open(api, control, ids):
    job = _run(api, control, ids["flow"], {"status": "completed", "numRecords": 5, "numError": 3})
    path = f"/flows/{ids['flow']}/{ids['import']}"
    errors = api.get(f"{path}/errors").json()["errors"]
    keys = [error["retryDataKey"] for error in errors]
    # The next forced outcome of the flow says how many retried records fail again.
    control.force_job_outcomes(ids["flow"], [{"status": "completed", "numError": 1}])

    response = api.post(f"{path}/retry", json={"retryDataKeys": keys})

    assert response.status_code == 200
    retry = response.json()
    assert (retry["type"], retry["status"]) == ("retry", "completed")
    assert (retry["numSuccess"], retry["numError"], retry["_flowJobId"]) == (2, 1, job["_id"])
    (again,) = api.get(f"{path}/errors").json()["errors"]
    assert again["retryDataKey"] in keys and again["_flowJobId"] == job["_id"]
    assert again["errorId"] not in {error["errorId"] for error in errors}
    resolved = api.get(f"{path}/resolved").json()["resolved"]
    assert {error["resolvedBy"] for error in resolved} == {"retry"} and len(resolved) == 3
    # Without a forced outcome, a retry succeeds.
    clean = api.post(f"{path}/retry", json={"retryDataKeys": [again["retryDataKey"]]}).json()
    assert (clean["numSuccess"], clean["numError"]) == (1, 0)
    assert api.get(f"{path}/errors").json() == {"errors": []}


def test_a_retry_that_runs_a_while_opens_failing_records_only_once_it_ends(api, control, ids):
    # retry_run_seconds: the retry job runs (as on integrator.io), the retried errors are
    # resolved at once, and a record that fails again is an open error only once it ended.
    job = _run(api, control, ids["flow"], {"status": "completed", "numRecords": 5, "numError": 2})
    path = f"/flows/{ids['flow']}/{ids['import']}"
    keys = [error["retryDataKey"] for error in api.get(f"{path}/errors").json()["errors"]]
    control.force_job_outcomes(ids["flow"], [{"status": "completed", "numError": 1}])
    control.configure(retry_run_seconds=60)

    retry = api.post(f"{path}/retry", json={"retryDataKeys": keys}).json()

    assert retry["status"] == "running" and not retry.get("endedAt")
    assert api.get(f"{path}/errors").json() == {"errors": []}
    assert api.get(f"/jobs/{retry['_id']}").json()["status"] == "running"

    ended = control.advance_job(retry["_id"], to="end")

    assert ended["status"] == "completed" and (ended["numSuccess"], ended["numError"]) == (1, 1)
    (again,) = api.get(f"{path}/errors").json()["errors"]
    assert again["retryDataKey"] in keys and again["_flowJobId"] == job["_id"]


@pytest.mark.parametrize(
    ("method", "tail", "body", "status", "code", "field"),
    [
        ("put", "resolved", {}, 422, "missing_required_field", "errors"),
        ("put", "resolved", {"errors": []}, 422, "invalid_field", "errors"),
        ("put", "resolved", {"errors": "abc"}, 422, "invalid_field", "errors"),
        ("put", "resolved", [1], 422, "invalid_field", None),
        ("post", "retry", {"errorIds": ["x"]}, 422, "missing_required_field", "retryDataKeys"),
        ("post", "retry", {"retryDataKeys": [1]}, 422, "invalid_field", "retryDataKeys"),
        ("post", "retry", {"retryDataKeys": ["nope"]}, 422, "invalid_field", "retryDataKeys"),
    ],
)
def test_bad_requests_answer_in_the_error_envelope(
    api, control, ids, method, tail, body, status, code, field
):
    _run(api, control, ids["flow"], "partial")

    response = getattr(api, method)(f"/flows/{ids['flow']}/{ids['import']}/{tail}", json=body)

    assert response.status_code == status
    (error,) = response.json()["errors"]
    assert error["code"] == code
    assert error.get("field") == field


def test_unknown_flows_and_steps_are_404(api, ids):
    unknown_flow = api.get(f"/flows/5eed00000000000000000bad/{ids['import']}/errors")
    foreign_step = api.get(f"/flows/{ids['flow']}/5eed00000000000000000bad/errors")

    assert unknown_flow.status_code == 404
    assert foreign_step.status_code == 404
    assert foreign_step.json()["errors"][0]["code"] == "not_found"


def test_an_em1_account_keeps_errors_as_joberrors_and_has_no_step_paths(api, control, ids):
    control.configure(error_management=1)
    job = _run(api, control, ids["flow"], {"status": "completed", "numRecords": 5, "numError": 2})

    joberrors = api.get(f"/jobs/{job['_id']}/joberrors")
    step = api.get(f"/flows/{ids['flow']}/{ids['import']}/errors")

    assert joberrors.status_code == 200 and len(joberrors.json()) == 2
    assert sorted(e["traceKey"] for e in joberrors.json()) == ["record-1", "record-2"]
    assert step.status_code == 404
    assert "Error Management 2.0" in step.json()["errors"][0]["message"]


def test_the_mode_is_a_checked_runtime_setting_and_reset_restores_it(control):
    assert control.configure()["error_management"] == 2
    assert control.configure(error_management=1)["error_management"] == 1
    control.reset()
    assert control.configure()["error_management"] == 2


def test_the_demo_makes_record_errors_on_demand(api, control, ids):
    control.configure(job_error_records=3)
    job_id = api.post(f"/flows/{ids['flow']}/run", json={}).json()["_jobId"]
    control.advance_job(job_id, to="end")

    job = api.get(f"/jobs/{job_id}").json()
    errors = api.get(f"/flows/{ids['flow']}/{ids['import']}/errors").json()["errors"]

    assert job["status"] == "completed" and job["numError"] == 3
    assert len(errors) == 3
    assert {e["message"] for e in errors} == {
        "The ERP refused the record: the customer's email address is missing."
    }
    assert all("retryDataKey" in e for e in errors)
    # Switched off again, runs are clean.
    control.configure(job_error_records=0)
    clean = api.post(f"/flows/{ids['flow']}/run", json={}).json()["_jobId"]
    control.advance_job(clean, to="end")
    assert api.get(f"/jobs/{clean}").json()["numError"] == 0

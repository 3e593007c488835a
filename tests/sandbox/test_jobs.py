"""Flow runs and jobs: lifecycle, counts, query rules, paging, cancel, errors, forced outcomes."""

import calendar
import re
import time

import pytest

DURATION = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$")


@pytest.fixture
def flow(api, control):
    """The seeded orders flow (one export, one import), with jobs that never start alone.
    The account is on Error Management 1.0, whose `joberrors` these tests read (EM 2.0's
    per-step errors: test_flow_errors.py)."""
    control.configure(
        job_queue_seconds=60, job_run_seconds=60, job_cancel_seconds=60, error_management=1
    )
    return control.seed()["flowIds"][0]


def _run(api, flow_id: str) -> str:
    response = api.post(f"/flows/{flow_id}/run", json={})
    assert response.status_code == 201
    return response.json()["_jobId"]


def _children(api, job_id: str) -> list[dict]:
    response = api.get("/jobs", params={"_flowJobId": job_id, "type_in": "export,import"})
    assert response.status_code == 200
    return response.json()


def _wait_for(api, job_id: str, statuses: tuple[str, ...], timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is still {job['status']}")


def test_it_runs_a_flow_into_a_queued_flow_job(api, flow):
    # Conformance case 19.
    job_id = _run(api, flow)
    jobs = api.get("/jobs", params={"_flowId": flow}).json()
    assert [job["_id"] for job in jobs] == [job_id]
    assert jobs[0]["type"] == "flow"
    assert jobs[0]["status"] == "queued"
    children = _children(api, job_id)
    assert sorted((c["type"], c["oIndex"]) for c in children) == [("export", 0), ("import", 1)]
    assert all(c["status"] == "queued" and c["_flowJobId"] == job_id for c in children)


def test_it_moves_a_job_through_running_to_completed_with_counts(api, control, flow):
    control.configure(job_queue_seconds=0.05, job_run_seconds=0.2, job_records=45)
    job_id = _run(api, flow)
    running = _wait_for(api, job_id, ("running", "completed"))
    assert running["status"] == "running"
    job = _wait_for(api, job_id, ("completed",))
    assert job["numExport"] == 45
    assert job["numSuccess"] == 45
    assert job["numError"] == 0
    assert job["numPagesGenerated"] == 3
    assert job["doneExporting"] is True
    assert job["startedAt"] <= job["endedAt"]
    assert DURATION.match(job["duration"])
    children = {c["type"]: c for c in _children(api, job_id)}
    assert children["export"]["numExport"] == 45
    assert children["import"]["numSuccess"] == 45
    assert children["import"]["numPagesProcessed"] == 3
    assert all(c["status"] == "completed" for c in children.values())
    assert api.get(f"/jobs/{job_id}/joberrors").json() == []


def test_it_lists_running_child_jobs_with_their_fields(api, control, flow):
    # Conformance case 20 (with _flowJobId: the current rule needs a resource filter).
    job_id = _run(api, flow)
    control.advance_job(job_id)
    response = api.get(
        "/jobs", params={"type": "import", "status": "running", "_flowJobId": job_id}
    )
    assert response.status_code == 200
    [job] = response.json()
    expected = {
        "_id", "type", "_importId", "_flowJobId", "startedAt", "status", "numError",
        "numSuccess", "numIgnore", "numPagesProcessed", "oIndex", "retriable", "createdAt",
        "lastModified",
    }  # fmt: skip
    assert expected <= set(job)
    assert job["type"] == "import"
    assert job["status"] == "running"


def test_it_enforces_the_parent_and_child_query_rules(api):
    # Conformance case 21.
    parent = api.get("/jobs")
    assert parent.status_code == 400
    assert parent.json()["errors"][0] == {
        "code": "invalid_query",
        "message": 'For parent jobs, query parameters must contain either "_integrationId" '
        'or "_jobId" or "createdAt"',
    }
    child = api.get("/jobs", params={"type": "export"})
    assert child.status_code == 400
    assert child.json()["errors"][0]["message"] == (
        'For child jobs, query parameters must contain either "_flowJobId" or "resourceId"'
    )
    assert api.get("/jobs", params={"type": "export", "_exportId": "x"}).json() == []
    assert api.get("/jobs", params={"createdAt_gte": "2020-01-01"}).status_code == 200
    bad_date = api.get("/jobs", params={"createdAt_gte": "yesterday"})
    assert bad_date.status_code == 400


def test_it_records_job_errors_of_a_partial_run(api, control, flow):
    # Conformance case 22.
    control.force_job_outcomes(flow, [{"status": "partial", "numRecords": 10, "numError": 3}])
    job_id = _run(api, flow)
    job = control.advance_job(job_id, to="end")
    assert job["status"] == "completed"
    assert job["numError"] == 3
    assert job["numSuccess"] == 7
    errors = api.get(f"/jobs/{job_id}/joberrors").json()
    assert len(errors) == 3
    import_job = next(c for c in _children(api, job_id) if c["type"] == "import")
    assert import_job["numError"] == 3
    assert import_job["retriable"] is True
    for error in errors:
        assert error["resolve"] is False
        assert error["retry"] is False
        assert error["code"] == "422"
        assert error["source"] == "integrator.io"
        assert error["_jobId"] == import_job["_id"]
        assert len(error["_retryId"]) == 24
        assert error["message"]
    assert len(api.get(f"/jobs/{import_job['_id']}/joberrors").json()) == 3
    with_errors = api.get("/jobs", params={"_flowId": flow, "numError_gte": 1}).json()
    assert [j["_id"] for j in with_errors] == [job_id]


def test_it_fails_a_forced_run_in_the_export_step(api, control, flow):
    control.force_job_outcomes(flow, ["failed"])
    job_id = _run(api, flow)
    job = control.advance_job(job_id, to="end")
    assert job["status"] == "failed"
    assert job["numPagesGenerated"] == 0
    export_job = next(c for c in _children(api, job_id) if c["type"] == "export")
    assert export_job["status"] == "failed"
    assert len(api.get(f"/jobs/{job_id}/joberrors").json()) == 1
    second = _run(api, flow)
    assert control.advance_job(second, to="end")["status"] == "completed"


def test_it_fails_a_run_that_uses_an_offline_connection(api, control, flow):
    ids = control.seed()
    shop = ids["connectionIds"]["shop"]
    api.patch(f"/connections/{shop}", json=[{"op": "add", "path": "/offline", "value": True}])
    job_id = _run(api, flow)
    job = control.advance_job(job_id, to="end")
    assert job["status"] == "failed"
    [error] = api.get(f"/jobs/{job_id}/joberrors").json()
    assert error["source"] == "connection"
    assert "offline" in error["message"]


def test_it_cancels_a_running_job(api, control, flow):
    # Conformance case 23.
    control.configure(job_cancel_seconds=0.2)
    job_id = _run(api, flow)
    control.advance_job(job_id)
    response = api.put(f"/jobs/{job_id}/cancel", json={})
    assert response.status_code == 200
    assert response.json()["status"] == "canceling"
    job = _wait_for(api, job_id, ("canceled",))
    assert job["endedAt"]
    assert all(c["status"] == "canceled" for c in _children(api, job_id))
    again = api.put(f"/jobs/{job_id}/cancel", json={})
    assert again.status_code == 422
    assert api.put("/jobs/5f0000000000000000000000/cancel", json={}).status_code == 404


def test_it_runs_one_job_per_flow_at_a_time(api, control, flow):
    control.configure(job_queue_seconds=0, job_run_seconds=0.3)
    first = _run(api, flow)
    second = _run(api, flow)
    time.sleep(0.1)
    assert api.get(f"/jobs/{first}").json()["status"] == "running"
    assert api.get(f"/jobs/{second}").json()["status"] == "queued"
    done = _wait_for(api, second, ("completed",))
    assert done["startedAt"] >= api.get(f"/jobs/{first}").json()["endedAt"]


def test_it_pages_jobs_newest_first_by_created_at(api, flow):
    job_ids = [_run(api, flow) for _ in range(4)]
    newest_first = api.get("/jobs", params={"_flowId": flow}).json()
    assert [job["_id"] for job in newest_first] == job_ids[::-1]
    created = [job["createdAt"] for job in newest_first]
    assert created == sorted(set(created), reverse=True)
    # The next page: createdAt_lte = the last createdAt minus 1 ms.
    cutoff = newest_first[1]["createdAt"]
    seconds = calendar.timegm(time.strptime(cutoff[:19], "%Y-%m-%dT%H:%M:%S"))
    epoch_ms = seconds * 1000 + int(cutoff[20:23]) - 1
    older = api.get("/jobs", params={"_flowId": flow, "createdAt_lte": str(epoch_ms)}).json()
    assert [job["_id"] for job in older] == job_ids[:2][::-1]


def test_it_answers_404_for_an_unknown_job_or_flow(api):
    assert api.get("/jobs/5f0000000000000000000000").status_code == 404
    assert api.post("/flows/5f0000000000000000000000/run", json={}).status_code == 404

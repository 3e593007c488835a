"""Jobs: filters, createdAt_lte paging past one page, get, cancel, job errors, query rules."""

import pytest

from integrator import JobStatus, ValidationError


def test_it_lists_parent_and_child_jobs_with_filters(client, control, seeded, writes):
    flow_id = seeded["flowIds"][0]
    first = client.run_flow(flow_id)
    control.advance_job(first.job_id, to="end")
    second = client.run_flow(flow_id)

    jobs = client.list_jobs(flow_id=flow_id)
    assert [job.id for job in jobs] == [second.job_id, first.job_id]  # newest first
    assert [j.id for j in client.list_jobs(flow_id=flow_id, status="completed")] == [first.job_id]
    assert client.list_jobs(integration_id=seeded["integrationId"], type="flow")

    children = client.list_jobs(type="export", flow_job_id=first.job_id)
    assert [child.flow_job_id for child in children] == [first.job_id]
    assert children[0].export_id == seeded["exportIds"][0]


def test_it_follows_created_at_pages_past_1001_jobs(client, control, seeded, writes):
    control.configure(rate_limit_burst=100_000, rate_limit_per_second=100_000)
    job_ids = {client.run_flow(seeded["flowIds"][i % 3]).job_id for i in range(1003)}
    first_page = client.list_jobs(integration_id=seeded["integrationId"])
    control.clear_requests_log()

    every_job = list(client.iter_jobs(integration_id=seeded["integrationId"]))

    assert len(first_page) == 1001  # the documented page size
    assert {job.id for job in every_job} == job_ids
    assert len(every_job) == 1003
    queries = [entry["query"] for entry in control.requests_log() if entry["path"] == "/v1/jobs"]
    assert len(queries) == 3  # two pages, then an empty one
    assert "createdAt_lte" not in queries[0] and "createdAt_lte" in queries[1]


def test_it_cancels_a_job(client, control, seeded, writes):
    control.configure(job_cancel_seconds=0)
    run = client.run_flow(seeded["flowIds"][0])

    client.cancel_job(run.job_id)

    assert client.get_job(run.job_id).status in (JobStatus.CANCELING, JobStatus.CANCELED)
    control.advance_job(run.job_id, to="end")
    assert client.get_job(run.job_id).status == JobStatus.CANCELED


def test_it_reads_job_errors_of_a_failed_run(client, control, seeded, writes):
    control.configure(error_management=1)  # joberrors: Error Management 1.0
    flow_id = seeded["flowIds"][0]
    control.force_job_outcomes(flow_id, ["failed"])
    run = client.run_flow(flow_id)
    control.advance_job(run.job_id, to="end")

    job = client.get_job(run.job_id)
    errors = client.list_job_errors(run.job_id)

    assert job.status == JobStatus.FAILED
    assert errors
    assert all(error.message and error.code for error in errors)


def test_it_reports_the_parent_and_child_query_rules(client, seeded_or_live):
    with pytest.raises(ValidationError) as parent:
        client.list_jobs()
    with pytest.raises(ValidationError) as child:
        client.list_jobs(type="export")
    assert (parent.value.status, parent.value.code) == (400, "invalid_query")
    assert "parent jobs" in parent.value.message
    assert "child jobs" in child.value.message

"""Error Management 2.0 through the client: a flow's step ids, a step's errors over every
`nextPageURL` page, resolve and retry; and the quirks that read the answers."""

import pytest

from integrator import NotFoundError, StepError, UnexpectedResponseError, quirks


@pytest.fixture
def partial_run(client, control, seeded, writes):
    """A run of the orders flow whose import rejected 230 of 250 records."""
    control.configure(job_queue_seconds=0, job_run_seconds=0)
    flow_id = seeded["flowIds"][0]
    control.force_job_outcomes(flow_id, [{"numRecords": 250, "numError": 230}])
    run = client.run_flow(flow_id)
    control.advance_job(run.job_id, to="end")
    return run


def test_a_flow_names_its_steps_in_order(client, seeded, partial_run):
    flow = client.get_flow(seeded["flowIds"][0])

    assert flow.step_ids == (seeded["exportIds"][0], seeded["importIds"][0])


def test_it_reads_every_page_of_a_steps_errors(client, control, seeded, partial_run):
    control.clear_requests_log()

    errors = client.list_step_errors(partial_run.flow_id, seeded["importIds"][0])

    assert len({error.error_id for error in errors}) == 230
    error = errors[0]
    assert isinstance(error, StepError)
    assert error.run_id == partial_run.job_id
    assert error.step_id == seeded["importIds"][0]
    assert error.retry_data_key and error.code == "422" and not error.resolved
    pages = [e for e in control.requests_log() if e["path"].endswith("/errors")]
    assert len(pages) == 3  # 100 + 100 + 30


def test_it_resolves_and_retries(client, control, seeded, partial_run):
    flow_id, step_id = partial_run.flow_id, seeded["importIds"][0]
    errors = client.list_step_errors(flow_id, step_id)

    client.resolve_step_errors(flow_id, step_id, [e.error_id for e in errors[:2]])
    (retry,) = client.retry_step_errors(flow_id, step_id, error_ids=[errors[2].error_id])
    more = client.retry_step_errors(flow_id, step_id, [e.retry_data_key for e in errors[3:5]])

    resolved = client.list_step_errors(flow_id, step_id, resolved=True)
    assert {e.error_id for e in resolved} == {e.error_id for e in errors[:5]}
    assert all(e.resolved and e.resolved_at for e in resolved)
    assert len(client.list_step_errors(flow_id, step_id)) == 225
    assert retry.job_id and len(more) == 1
    assert client.get_job(retry.job_id).raw["type"] == "retry"


def test_an_em1_account_answers_404_on_step_errors(client, control, seeded, partial_run):
    control.configure(error_management=1)

    with pytest.raises(NotFoundError):
        client.list_step_errors(partial_run.flow_id, seeded["importIds"][0])


def test_the_quirks_read_either_list_key_and_the_uis_next_page_form():
    assert quirks.step_errors_page({"resolved": [1], "nextPageURL": "/v1/x"}, resolved=True) == (
        [1],
        "/v1/x",
    )
    assert quirks.step_errors_page({"errors": []}, resolved=True) == ([], None)
    assert quirks.step_errors_page(None, resolved=False) == ([], None)
    with pytest.raises(UnexpectedResponseError):
        quirks.step_errors_page([], resolved=False)
    assert quirks.step_errors_next_path("/api/flows/f/s/errors?skip=1", "/v1") == (
        "/v1/flows/f/s/errors?skip=1"
    )
    assert quirks.retry_job_id({"_id": "j1"}) == "j1"
    assert quirks.retry_job_id(None) is None

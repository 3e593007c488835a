"""Calls a step makes side by side (provisioning.lease.FencedClient.side_by_side): they take
as long as one, each is logged under the job's step from the job's thread, an error comes
out once every call has ended, and a run that lost its job sends nothing. Real sandbox over
HTTP, real database; the job is claimed here, in this thread."""

import time

import pytest
from django.db import connection

from integrator.errors import NotFoundError
from provisioning.errors import LeaseLost
from provisioning.lease import FencedClient, current_run, job_claim, shared_client
from provisioning.models import Job, JobKind, JobStatus
from provisioning.services import job_request
from tests.fixtures.live_tenants import wait_for

LATENCY_MS = 300
MISSING_FLOW = "0" * 24


@pytest.fixture
def run(world, monkeypatch):
    """A provision job claimed by this thread, at its first step, with 300 ms a call."""
    monkeypatch.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
    job = job_request(tenant=world.tenant("Acme"), kind=JobKind.PROVISION, requested_by="api")
    claimed = job_claim(job_id=str(job.pk), owner="test")
    assert claimed is not None
    claimed.step = job.steps.order_by("position").first()
    token = current_run.set(claimed)
    world.sandbox.control.set_latency(LATENCY_MS)
    yield claimed
    current_run.reset(token)
    # The job was only borrowed: nothing is left running for the session worker to wait on.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELED)


def _client(run) -> FencedClient:
    return FencedClient(shared_client(run.job.tenant.account), run)


def test_the_calls_take_as_long_as_one_and_are_logged_from_the_jobs_thread(world, run):
    integration_id = world.seed["integrationId"]
    calls = [lambda c, n=n: (n, c.get_integration(integration_id).id) for n in range(3)]

    started = time.monotonic()
    results = _client(run).side_by_side(calls)
    seconds = time.monotonic() - started

    assert results == [(n, integration_id) for n in range(3)]
    # One after the other they would take 0.9 s at least.
    assert LATENCY_MS / 1000 <= seconds < 2 * LATENCY_MS / 1000, seconds
    assert [(c.method, c.status, c.step_id) for c in run.calls] == [("GET", 200, run.step.pk)] * 3
    assert run.remote_calls == 3


def test_an_error_comes_out_after_every_call_has_ended(world, run):
    integration_id = world.seed["integrationId"]
    ended = []

    def read(client):
        client.get_integration(integration_id)
        ended.append(integration_id)

    with pytest.raises(NotFoundError):
        _client(run).side_by_side([read, lambda c: c.get_flow(MISSING_FLOW), read])

    assert ended == [integration_id, integration_id]
    assert sorted(c.status for c in run.calls) == [200, 200, 404]


def test_a_run_that_lost_its_job_sends_nothing(world, run):
    # Another worker took the job over (its lease ran out): a new generation.
    Job.objects.filter(pk=run.job.pk).update(lease_generation=run.generation + 1)
    run.renewed_at -= 3600  # the lease is due for its renewal, which finds the job taken
    before = len(world.sandbox.control.requests_log())

    with pytest.raises(LeaseLost):
        _client(run).side_by_side([lambda c: c.get_integration(world.seed["integrationId"])] * 3)

    assert len(world.sandbox.control.requests_log()) == before
    assert run.calls == []


def _sessions_open(pids: list[int]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        return [row[0] for row in cursor.fetchall()]


def test_a_call_that_used_the_database_leaves_no_session_behind(world, run):
    """A call on a side thread may reach the database: the circuit breaker it closes tells
    the other apps (the host's event, the jobs that waited sent again). No task or request
    ever ends on the pool's threads, so their connection is closed when the call ends rather
    than left open for the life of the worker."""
    pids = []

    def read_and_write(client):
        client.get_integration(world.seed["integrationId"])
        Job.objects.filter(pk=run.job.pk).update(error_message="")
        pids.append(connection.connection.info.backend_pid)

    _client(run).side_by_side([lambda c: None, read_and_write, read_and_write])

    assert len(pids) == 2
    # The server ends a session's backend a moment after its client closes the connection
    # (pg_stat_activity showed one, now and then, in the full suite): a session left open
    # stays listed for good, so a short wait still tells the two apart.
    assert wait_for(lambda: _sessions_open(pids) == [], timeout=3), _sessions_open(pids)

"""How often a job writes its progress: once per write that must happen, not once per step
(provisioning.runner._progress_waits), and never so seldom that a person watching it sees
stale steps."""

import threading
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrator.client import IntegratorClient
from provisioning import runner
from provisioning.clone_check import template_checks_forget
from provisioning.models import Job, JobKind, JobStatus, StepStatus
from provisioning.runner import job_run_once
from provisioning.services import job_cancel, job_request
from provisioning.tasks import error_is_outage, error_is_transient
from tests.provisioning.test_provision_calls import provision


def _run_here(job) -> list[str]:
    """Run the job in this process (not the session worker's) and return its statements."""
    with CaptureQueriesContext(connection) as captured:
        job_run_once(
            job_id=str(job.pk), owner="test", transient=error_is_transient, outage=error_is_outage
        )
    return [query["sql"] for query in captured.captured_queries]


def test_a_provision_writes_a_one_statement_claim_then_commits_the_intent_the_clone_and_the_end(
    world, versions, monkeypatch
):
    warm_up = provision(world, world.tenant("Warm-up"))  # the template's check, done once
    assert warm_up.status == JobStatus.SUCCEEDED
    tenant = world.tenant("Acme")
    # The job stays here: the session worker never gets its message.
    monkeypatch.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
    job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api")

    statements = _run_here(job)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert statements.count("COMMIT") == 3, statements
    # The claim needs no transaction: one UPDATE that returns the generation it took.
    assert statements[0].startswith('UPDATE "provisioning_job"'), statements[0]
    assert "RETURNING" in statements[0]
    # Each transaction writes the steps it holds in one statement, and moving the tenant
    # makes no savepoint (the event's insert keeps the one it catches a duplicate with).
    step_writes = [s for s in statements if s.startswith('UPDATE "provisioning_jobstep"')]
    assert len(step_writes) == 3, step_writes
    assert sum(s.startswith("SAVEPOINT") for s in statements) == 1, statements
    # The claim reads the job with its UPDATE, and the tenant (account, version, template)
    # with one statement; its settings are read again once, by the end's check for a change.
    assert sum(s.startswith('SELECT "provisioning_job"') for s in statements) == 0, statements
    assert sum(s.startswith('SELECT "settings" FROM "tenants_tenant"') for s in statements) == 1
    # The end's status event names the tenant's incarnation from the row locked for the move,
    # not from a read of its own.
    other_tenant_reads = [
        s for s in statements if s.startswith('SELECT "tenants_tenant"') and "FOR UPDATE" not in s
    ]
    assert other_tenant_reads == [], other_tenant_reads
    # Every step's record is complete all the same, in order.
    steps = list(job.steps.order_by("position"))
    assert [s.status for s in steps] == [StepStatus.SUCCEEDED] * len(steps)
    assert all(s.attempts == 1 and s.started_at <= s.finished_at for s in steps)
    assert [s.finished_at for s in steps] == sorted(s.finished_at for s in steps)
    assert steps[1].output["integration_id"] == job.tenant.integration_id
    # Verify judges the wiring read with the settings: it calls nothing.
    assert {c.step.name for c in job.api_calls.select_related("step")} == {
        "clone",
        "settings",
        "enable",
    }


class _Watched:
    """A client whose every method call goes through `around_call(name, send)`."""

    def __init__(self, client, around_call):
        self._client = client
        self._around_call = around_call

    def __getattr__(self, method_name):
        method = getattr(self._client, method_name)
        return lambda *args, **kwargs: self._around_call(
            method_name, lambda: method(*args, **kwargs)
        )


def _slow_job_here(world, monkeypatch, name: str, *, around_call):
    """A provision job of a new tenant that only this process runs, at 300 ms a call;
    `around_call(name, send)` wraps each call the job makes to integrator.io, one at a time
    or side by side (there, the first of a batch on this thread, the others on side threads)."""
    tenant = world.tenant(name)
    monkeypatch.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
    job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api")
    world.sandbox.control.set_latency(300)
    original = runner.FencedClient.__getattr__
    side_by_side = runner.FencedClient.side_by_side

    def watched(self, method_name):
        method = original(self, method_name)
        return lambda *args, **kwargs: around_call(method_name, lambda: method(*args, **kwargs))

    def watched_side_by_side(self, calls):
        return side_by_side(
            self, [lambda client, call=call: call(_Watched(client, around_call)) for call in calls]
        )

    monkeypatch.setattr(runner.FencedClient, "__getattr__", watched)
    monkeypatch.setattr(runner.FencedClient, "side_by_side", watched_side_by_side)
    return job


def test_a_slow_jobs_steps_show_while_it_runs(world, versions, monkeypatch):
    monkeypatch.setattr(runner, "PROGRESS_STALE_SECONDS", 0.2)
    # What a person polling the job sees while each call to integrator.io is in flight (on
    # this thread: the flows' PATCHes go side by side, the first of them from here).
    seen = []
    here = threading.get_ident()
    patch_flow = IntegratorClient.patch_flow

    def watched_patch_flow(self, *args, **kwargs):
        if threading.get_ident() == here:
            running = job.steps.filter(status=StepStatus.RUNNING).values_list("name", flat=True)
            seen.append(("patch_flow", list(running)))
        return patch_flow(self, *args, **kwargs)

    monkeypatch.setattr(IntegratorClient, "patch_flow", watched_patch_flow)
    job = _slow_job_here(world, monkeypatch, "Slow", around_call=lambda name, send: send())

    statements = _run_here(job)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    # The settings step's PATCH took 300 ms: the enable step shows as running while the
    # flows' PATCHes are in flight, though nothing else had to be written since the clone.
    assert seen == [("patch_flow", ["enable"])], seen
    assert statements.count("COMMIT") > 3


def test_a_cancel_stops_the_job_at_its_next_step_boundary(world, versions, monkeypatch):
    calls = []

    def around_call(name, send):
        calls.append(name)
        result = send()
        if name == "patch_integration":
            # A person cancels while the settings step's call is in flight.
            job_cancel(job=Job.objects.get(pk=job.pk))
        return result

    job = _slow_job_here(world, monkeypatch, "Canceled", around_call=around_call)

    _run_here(job)

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    # Nothing was written between the clone and the cancel, yet the enable step never ran.
    assert "patch_integration" in calls
    assert "list_integration_connections" in calls  # the wiring, read with the settings
    assert "patch_flow" not in calls, calls


def test_the_template_check_reads_side_by_side_before_the_first_clone(world, versions):
    # This process has not checked the template yet: its first provision reads it, four
    # reads of 400 ms (1.6 s one after the other).
    template_checks_forget()
    template = versions.source_integration_id
    world.sandbox.control.set_latency(400, path=f"/v1/integrations/{template}*", method="GET")
    tenant = world.tenant("First")
    with mock.patch("provisioning.services.jobs.send_on_commit"):
        job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api")

    _run_here(job)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    clone = job.steps.get(name="clone")
    assert "predicted_flows" in clone.output  # the check passed: the clone was not read back
    reads = job.api_calls.filter(method="GET", path__contains=f"/integrations/{template}")
    assert reads.count() == 4
    assert (clone.finished_at - clone.started_at).total_seconds() < 1.0

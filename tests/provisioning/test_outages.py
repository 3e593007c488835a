"""When integrator.io has a bad hour: jobs wait out an outage within their retry window
without spending attempts; permanent errors, a spent window and poison jobs still end them.

Scaling (the session worker, tests/fixtures/worker.py QUICK_POLICIES): backoff 0.2 s doubling
to 1.5 s (production 2 s to 300 s), retry window 60 s (production 24 h), attempts cap 8 (as in
production). With those, a job's whole attempt budget is spent in ~15-20 s of outage, which is
what made the 25 s outage below fail every job before the window existed
(tests/provisioning/test_outage_measure.py).
"""

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_breaker
from integrator.circuit_breaker import CLOSED
from provisioning.clone_check import template_checks_forget
from provisioning.models import Job, JobKind, JobOrigin, JobStatus, JobStep
from provisioning.outage_probe import outage_probe_accounts
from provisioning.policy import POLICY
from provisioning.runner import attempts_spent, job_run_once
from provisioning.services import job_request
from provisioning.steps import PLANS
from provisioning.tasks import error_is_outage, error_is_transient, job_run, outage_probe_task
from tenants.models import TenantStatus
from tests.fixtures.worker import QUICK_POLICIES
from tests.fixtures.world import sweep_now
from webhooks.models import Event, EventType

TENANTS = 4
OUTAGE_SECONDS = 25.0
# Backoff cap 1.5 s, plus a provision's own run (~1-2 s against the sandbox) and slack for
# the 2 shared cores of CI.
DONE_WITHIN_SECONDS = 15.0
WINDOW_SECONDS = float(QUICK_POLICIES["PROVISIONING_RETRY_WINDOW_SECONDS"])
# A backoff grown long, as production's reaches 300 s; far beyond what a test waits.
LONG_BACKOFF_SECONDS = 240.0
# From integrator.io being back: the next probe (1 s), the closing call's job (backoff cap
# 1.5 s) and the resumed provision's own run, with slack for 2 shared cores.
RESUMED_WITHIN_SECONDS = 12.0


def provision(tenant):
    return job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)


def _job_with_steps(tenant, **fields) -> Job:
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        **{"due_at": timezone.now(), **fields},
    )
    JobStep.objects.bulk_create(
        JobStep(job=job, name=name, position=n) for n, name in enumerate(PLANS[job.kind], 1)
    )
    return job


def test_jobs_wait_out_an_outage_longer_than_their_attempt_budget(world):
    tenants = [world.tenant(f"Outage {n}") for n in range(TENANTS)]
    world.sandbox.control.inject_fault("error", status=503, path="/v1/*")
    jobs = [provision(t) for t in tenants]
    time.sleep(OUTAGE_SECONDS)

    waiting = list(Job.objects.filter(pk__in=[j.pk for j in jobs]))
    assert all(job.status in (JobStatus.QUEUED, JobStatus.RUNNING) for job in waiting)
    queued = next(job for job in waiting if job.status == JobStatus.QUEUED)
    assert queued.error_message.startswith("Waiting for integrator.io since ")
    assert queued.waiting_since is not None

    world.sandbox.control.clear_faults()
    recovered = time.monotonic()
    jobs = world.wait(jobs, timeout=DONE_WITHIN_SECONDS)

    assert time.monotonic() - recovered < DONE_WITHIN_SECONDS
    for job, tenant in zip(jobs, tenants, strict=True):
        assert job.status == JobStatus.SUCCEEDED, job.error_message
        assert attempts_spent(job) == 1  # every other run was postponed by the outage
        tenant.refresh_from_db()
        assert tenant.status == TenantStatus.ACTIVE
        [clone] = world.clones(tenant)
        assert tenant.integration_id == clone["_id"]
    assert len(world.objects("integrations")) == 1 + TENANTS


def test_jobs_waiting_out_an_outage_resume_as_soon_as_integrator_io_is_back(world):
    """A job whose backoff grew long does not sit out the rest of it once integrator.io
    answers again: the worker whose call closes the breaker sends the outage's waiting jobs
    at once. They keep their window (`waiting_since`) and run once each."""
    waiting_tenant = world.tenant("Long wait")
    prober_tenant = world.tenant("Still trying")
    since = timezone.now() - timedelta(seconds=20)
    waiting = _job_with_steps(
        waiting_tenant,
        waiting_since=since,
        attempts=6,
        outage_retries=6,
        error_code="circuit_open",
        error_message="Waiting for integrator.io since ...",
        due_at=timezone.now() + timedelta(seconds=LONG_BACKOFF_SECONDS),
    )
    breaker = integrator_breaker(rate_limit_redis(), waiting_tenant.account)
    world.sandbox.control.inject_fault("error", status=503, path="/v1/*")
    # A job still retrying on its short backoff: its calls open the breaker in the worker,
    # and after the outage one of them is the probe that closes it there.
    prober = provision(prober_tenant)
    deadline = time.monotonic() + 30
    while breaker.snapshot()[0].state == CLOSED:
        assert time.monotonic() < deadline, "the outage never opened the breaker"
        time.sleep(0.1)

    world.sandbox.control.clear_faults()
    recovered = time.monotonic()
    waiting, prober = world.wait([waiting, prober], timeout=RESUMED_WITHIN_SECONDS)

    assert time.monotonic() - recovered < RESUMED_WITHIN_SECONDS
    assert prober.status == JobStatus.SUCCEEDED, prober.error_message
    assert waiting.status == JobStatus.SUCCEEDED, waiting.error_message
    assert waiting.attempts == 7  # one run, not one per message
    assert waiting.outage_retries == 6
    assert waiting.waiting_since == since
    assert len(world.clones(waiting_tenant)) == 1


def test_jobs_waiting_out_an_outage_resume_when_nothing_else_calls_integrator_io(world):
    """No other job, no live tenant's sync: nothing would call integrator.io before the
    waiting jobs' own backoff ran out. Beat's probe asks it, through the breaker, once its
    probe is due; integrator.io answering closes the breaker, and the waiting job goes."""
    tenant = world.tenant("Alone")
    since = timezone.now() - timedelta(seconds=20)
    job = _job_with_steps(
        tenant,
        waiting_since=since,
        attempts=6,
        outage_retries=6,
        error_code="circuit_open",
        due_at=timezone.now() + timedelta(seconds=LONG_BACKOFF_SECONDS),
    )
    breaker = integrator_breaker(rate_limit_redis(), tenant.account)
    for _ in range(settings.INTEGRATOR_BREAKER_FAILURES):
        breaker.record_failure(breaker.admit())
    # integrator.io is well again, and the breaker's next probe is due.
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")

    recovered = time.monotonic()
    outage_probe_task.delay()  # as beat sends it, every INTEGRATOR_BREAKER_PROBE_SECONDS
    [job] = world.wait(job, timeout=RESUMED_WITHIN_SECONDS)

    assert time.monotonic() - recovered < RESUMED_WITHIN_SECONDS
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.attempts == 7
    assert breaker.snapshot()[0].state == CLOSED


def test_the_probe_asks_nothing_while_integrator_io_is_well(world):
    world.tenant("Nobody waits")
    before = len(world.sandbox.control.requests_log())

    assert outage_probe_accounts() == []  # every breaker is closed

    assert len(world.sandbox.control.requests_log()) == before


def test_the_probe_closes_an_open_breaker_when_no_job_waits(world):
    """A quiet deployment: the breaker opened, integrator.io came back, and nothing waits for
    it nor calls it. Beat's probe asks it all the same, so that the admin banner, /readyz and
    the API stop saying it is unavailable, and the host app hears `integrator.recovered`
    once."""
    tenant = world.tenant("Nobody waits")
    breaker = integrator_breaker(rate_limit_redis(), tenant.account)
    for _ in range(settings.INTEGRATOR_BREAKER_FAILURES):
        breaker.record_failure(breaker.admit())
    episode = breaker.snapshot()[0].episode
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")  # its probe is due

    assert outage_probe_accounts() == [tenant.account.key]
    assert outage_probe_accounts() == []  # closed: nothing more to ask

    assert breaker.snapshot()[0].state == CLOSED
    [recovered] = Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED)
    assert recovered.data["episode"] == episode
    assert recovered.data["account"]["key"] == tenant.account.key


def test_the_probe_asks_once_per_interval_while_integrator_io_stays_down(world):
    tenant = world.tenant("Still down")
    breaker = integrator_breaker(rate_limit_redis(), tenant.account)
    for _ in range(settings.INTEGRATOR_BREAKER_FAILURES):
        breaker.record_failure(breaker.admit())
    world.sandbox.control.inject_fault("error", status=503, path="/v1/*")
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")
    before = len(world.sandbox.control.requests_log())

    outage_probe_accounts()  # the probe: it fails, the breaker reopens for an interval
    outage_probe_accounts()  # not due: refused without a call

    assert len(world.sandbox.control.requests_log()) == before + 1
    assert breaker.snapshot()[0].state != CLOSED
    assert not Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED).exists()


def test_a_run_whose_own_probe_finds_integrator_io_back_goes_again_at_once(world, versions):
    """The run that probes may be postponed all the same: the reads of the template are sent
    side by side, one of them is the probe, the others are refused while it is out. The probe's
    answer closes the breaker while this job is running, so it is not among the jobs sent at
    the close; it must not then wait out the backoff its retries grew to. Run in the test's
    thread, with production's backoff (2 s doubling to 300 s)."""
    tenant = world.tenant("Probing")
    since = timezone.now() - timedelta(minutes=10)
    job = _job_with_steps(
        tenant, waiting_since=since, attempts=7, outage_retries=7, error_code="circuit_open"
    )
    breaker = integrator_breaker(rate_limit_redis(), tenant.account)
    for _ in range(settings.INTEGRATOR_BREAKER_FAILURES):
        breaker.record_failure(breaker.admit())
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")  # the next call probes
    world.sandbox.control.set_latency(300)  # the probe is out while its siblings are asked
    template_checks_forget()

    job_run_once(
        job_id=str(job.pk), owner="test", transient=error_is_transient, outage=error_is_outage
    )

    job.refresh_from_db()
    assert breaker.snapshot()[0].state == CLOSED
    assert job.status == JobStatus.QUEUED, job.error_message
    assert job.error_code == "circuit_open"
    assert (job.due_at - timezone.now()).total_seconds() <= POLICY.retry_base_seconds
    assert job.outage_retries == 8  # the window's accounting goes on
    assert job.waiting_since == since


def test_a_permanent_error_fails_the_job_at_once(world):
    tenant = world.tenant("Refused")
    world.sandbox.control.inject_fault(
        "error", status=400, method="GET", path="/v1/integrations/*/flows"
    )

    [job] = world.wait(provision(tenant), timeout=30)

    assert job.status == JobStatus.FAILED
    assert job.attempts == 1
    assert job.outage_retries == 0
    assert job.error_code == "validation"
    assert "400" in job.error_message
    assert "unavailable" not in job.error_message


def test_a_spent_window_fails_the_job_with_the_window_message(world):
    tenant = world.tenant("Unlucky")
    world.sandbox.control.inject_fault(
        "error", status=500, method="GET", path="/v1/integrations/*/flows"
    )
    # The job has waited for integrator.io nearly all its window already (as if for 24 h).
    job = _job_with_steps(
        tenant,
        waiting_since=timezone.now() - timedelta(seconds=WINDOW_SECONDS - 3),
        attempts=40,
        outage_retries=40,
    )
    job_run.delay(str(job.pk))

    [job] = world.wait(job, timeout=30)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "integrator_unavailable"
    assert job.error_message.startswith("integrator.io was unavailable for 1 min (last error: ")
    assert "500" in job.error_message
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.FAILED
    assert tenant.last_error == job.error_message
    assert job.steps.get(name="wire").status == "failed"
    # The clone was made once and kept through every retry.
    assert len(world.clones(tenant)) == 1


def test_outage_retries_do_not_hide_a_poison_job(world):
    """Eight runs died without an outcome among forty outage postponements: the cap holds."""
    tenant = world.tenant("Poison amid outage")
    job = _job_with_steps(
        tenant,
        attempts=48,
        outage_retries=40,
        waiting_since=timezone.now(),
        error_message="integrator.io: GET /v1/x -> 503",
    )
    job_run.delay(str(job.pk))

    [job] = world.wait(job)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "attempts_exhausted"
    assert world.clones(tenant) == []


def test_a_worker_killed_mid_run_spends_an_attempt_while_outages_do_not(world):
    """SIGKILL the worker while it waits out an outage, for real: the run it held ends
    without an outcome and counts against the cap; the postponements around it do not."""
    tenant = world.tenant("Killed in outage")
    world.sandbox.control.inject_fault("error", status=503, path="/v1/*")
    # Every call hangs a while so that the kill lands mid-run.
    world.sandbox.control.set_latency(700)
    job = provision(tenant)
    deadline = time.monotonic() + 30
    while Job.objects.get(pk=job.pk).outage_retries < 2:
        assert time.monotonic() < deadline, "the job was never postponed by the outage"
        time.sleep(0.1)
    # Kill the worker while it holds a run. A run can end between the read that saw it
    # running and the kill (with the circuit open, a postponed run takes milliseconds): the
    # kill then met no run, so restart and aim again until one dies holding the job. The
    # message the dead worker had reserved comes back through the sweeper, as in production.
    missed = False
    while True:
        while Job.objects.get(pk=job.pk).status != JobStatus.RUNNING:
            assert time.monotonic() < deadline, "the job never ran again"
            if missed:
                sweep_now()
            time.sleep(0.02)
        world.engine.kill()
        if Job.objects.get(pk=job.pk).status == JobStatus.RUNNING:
            break
        missed = True
        deadline = time.monotonic() + 30
        world.engine.restart()
    world.engine.restart()
    world.sandbox.control.clear_faults()
    world.sandbox.control.clear_latency()

    [job] = world.wait(job, timeout=60, sweep=True)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert attempts_spent(job) == 2  # the killed run and the one that finished
    assert len(world.clones(tenant)) == 1


def _transient_not_outage(error: BaseException) -> bool:
    """As a prefork soft time limit is: transient, but not integrator.io's unavailability."""
    return True


def _never_an_outage(error: BaseException) -> bool:
    return False


def test_a_job_giving_up_on_a_transient_error_counts_only_the_attempts_that_count(world):
    """Runs postponed by an outage are no attempts (the cap does not count them): the message
    a person reads names the attempts the cap counted, not every run."""
    tenant = world.tenant("Gives up after outages")
    world.sandbox.control.inject_fault(
        "error", status=500, method="GET", path="/v1/integrations/*/flows"
    )
    # Five outage postponements, then attempts up to one before the cap: this run is the last.
    job = _job_with_steps(
        tenant, attempts=POLICY.max_attempts - 1 + 5, outage_retries=5, waiting_since=None
    )

    job_run_once(
        job_id=str(job.pk), owner="test", transient=_transient_not_outage, outage=_never_an_outage
    )

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_message.startswith(f"Gave up after {POLICY.max_attempts} attempts. "), (
        job.error_message
    )


def test_a_job_retrying_a_transient_error_names_the_attempt_that_counts(world):
    tenant = world.tenant("Retries after outages")
    world.sandbox.control.inject_fault(
        "error", status=500, method="GET", path="/v1/integrations/*/flows"
    )
    job = _job_with_steps(tenant, attempts=5, outage_retries=4)

    job_run_once(
        job_id=str(job.pk), owner="test", transient=_transient_not_outage, outage=_never_an_outage
    )

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED, job.error_message
    assert job.error_message.startswith("Attempt 2 failed, retrying: "), job.error_message

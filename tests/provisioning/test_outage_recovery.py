"""When an account's circuit breaker closes, the jobs waiting out its outage are made due and
sent at once, each once, whichever process saw the close and however many did; the rest of
the queue keeps its own timing (provisioning/services/outage_recovery.py). The real worker's
side is tests/provisioning/test_outages.py."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from core.accounts import integrator_account_default, integrator_account_save
from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_breaker
from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.policy import POLICY
from provisioning.services import jobs_resume_after_outage
from provisioning.tasks import job_run
from tests.fixtures.factories import TenantFactory

LATER = timedelta(seconds=240)


@pytest.fixture
def sent(monkeypatch):
    """The job messages actually published: (job id, countdown)."""
    messages = []
    monkeypatch.setattr(
        job_run,
        "apply_async",
        lambda args, countdown=None: messages.append((args[0], countdown)),
    )
    return messages


@pytest.fixture
def breaker(db, settings):
    settings.INTEGRATOR_BREAKER_FAILURES = 2
    settings.INTEGRATOR_BREAKER_PROBE_SECONDS = 60
    breaker = integrator_breaker(rate_limit_redis(), integrator_account_default())
    breaker.reset()
    yield breaker
    breaker.reset()


def waiting_job(*, code="circuit_open", due_in=LATER, account=None, **fields) -> Job:
    tenant = TenantFactory(**({"account": account} if account else {}))
    return Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        **{
            "status": JobStatus.QUEUED,
            "due_at": timezone.now() + due_in,
            "waiting_since": timezone.now() - timedelta(minutes=30),
            "attempts": 9,
            "outage_retries": 8,
            "error_code": code,
            "error_message": "Waiting for integrator.io since ...",
            **fields,
        },
    )


def test_the_jobs_waiting_for_the_account_are_due_now_and_sent_once(
    db, sent, django_capture_on_commit_callbacks
):
    account = integrator_account_default().key
    jobs = [waiting_job(code=code) for code in ("circuit_open", "unavailable", "server")]
    network = waiting_job(code="connection_failed")
    before = {job.pk: (job.waiting_since, job.outage_retries, job.attempts) for job in jobs}

    with django_capture_on_commit_callbacks(execute=True):
        resumed = jobs_resume_after_outage(account_key=account)
    # A second process that saw the close, or the same one asked again.
    with django_capture_on_commit_callbacks(execute=True):
        again = jobs_resume_after_outage(account_key=account)

    assert sorted(map(str, resumed)) == sorted(str(j.pk) for j in [*jobs, network])
    assert again == []
    assert sorted(sent) == sorted((str(j.pk), None) for j in [*jobs, network])
    for job in jobs:
        job.refresh_from_db()
        assert job.due_at <= timezone.now()
        assert job.status == JobStatus.QUEUED
        # The window goes on: a returning outage continues it, it does not start a new one.
        assert (job.waiting_since, job.outage_retries, job.attempts) == before[job.pk]


def test_the_rest_of_the_queue_keeps_its_timing(db, sent, django_capture_on_commit_callbacks):
    eu = integrator_account_save(
        key=f"eu-{uuid.uuid4().hex[:8]}", name="EU", region="eu", token="eu-recovery-token"
    )
    untouched = [
        waiting_job(account=eu),  # another account's outage, still on
        waiting_job(code="rate_limited"),  # a 429: its Retry-After holds the account
        waiting_job(code="soft_time_limit_exceeded"),  # not integrator.io's doing
        waiting_job(status=JobStatus.RUNNING),  # already at work
        waiting_job(due_in=timedelta(seconds=-1)),  # already due: its message is out
        waiting_job(waiting_since=None, code="", attempts=0, outage_retries=0),  # never waited
    ]
    due = {job.pk: job.due_at for job in untouched}

    with django_capture_on_commit_callbacks(execute=True):
        resumed = jobs_resume_after_outage(account_key=integrator_account_default().key)

    assert resumed == []
    assert sent == []
    assert {j.pk: j.due_at for j in Job.objects.filter(pk__in=due)} == due


def test_a_job_whose_answer_was_lost_still_waits_for_it_to_settle(
    db, sent, django_capture_on_commit_callbacks
):
    lost = waiting_job(code="outcome_unknown")
    soon = waiting_job(code="outcome_unknown", due_in=timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        jobs_resume_after_outage(account_key=integrator_account_default().key)

    lost.refresh_from_db()
    settle = timedelta(seconds=POLICY.outcome_settle_seconds)
    assert timezone.now() + settle - timedelta(seconds=5) < lost.due_at <= timezone.now() + settle
    assert sent == [(str(lost.pk), POLICY.outcome_settle_seconds)]
    assert Job.objects.get(pk=soon.pk).due_at == soon.due_at


def test_the_breaker_closing_resumes_them_once_its_callers_transaction_commits(
    breaker, sent, django_capture_on_commit_callbacks
):
    job = waiting_job()
    for _ in range(2):
        breaker.record_failure(breaker.admit())
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        breaker.record_success(breaker.admit())  # the probe: closed, in this process
        assert sent == []
        assert Job.objects.get(pk=job.pk).due_at == job.due_at

    assert sent == [(str(job.pk), None)]
    assert Job.objects.get(pk=job.pk).due_at <= timezone.now()


def test_a_probe_going_out_or_failing_resumes_nothing(
    breaker, sent, django_capture_on_commit_callbacks
):
    job = waiting_job()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            breaker.record_failure(breaker.admit())  # opened
        rate_limit_redis().hset(breaker.key, "next_probe_at", "1")
        breaker.record_failure(breaker.admit())  # half-open, then reopened

    assert sent == []
    assert Job.objects.get(pk=job.pk).due_at == job.due_at


def test_an_outage_redis_forgot_resumes_its_waiting_jobs_once_when_the_sweep_closes_it(
    breaker, sent, django_capture_on_commit_callbacks
):
    """Redis restarted without persistence while the breaker was open: the breaker starts
    closed and never closes, so only the webhook sweep sees the episode end. The jobs that
    waited out the outage go then, as they do when the breaker closes, and once however
    often the sweep runs."""
    from webhooks.models import Event, EventType
    from webhooks.tasks import webhook_deliveries_sweep

    job = waiting_job()
    for _ in range(2):
        breaker.record_failure(breaker.admit())
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()  # still open: nothing is over
    assert sent == []
    breaker.reset()  # Redis forgot it

    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()

    assert Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED).count() == 1
    assert sent == [(str(job.pk), None)]
    assert Job.objects.get(pk=job.pk).due_at <= timezone.now()


def test_an_outage_redis_forgot_sends_the_jobs_that_fell_due_meanwhile_when_the_sweep_closes_it(
    breaker, sent, django_capture_on_commit_callbacks
):
    """Redis restarted without persistence while the breaker was open, and took with it the
    messages of the jobs waiting out the outage (sent with a countdown, held in Redis). A job
    whose backoff ended meanwhile is due but has no message: the sweep that ends the episode
    sends it, with the others, rather than leaving it to the stalled-job sweep minutes later;
    once, however often the sweep runs."""
    from webhooks.tasks import webhook_deliveries_sweep

    fell_due = waiting_job(due_in=timedelta(seconds=-20))
    later = waiting_job()
    for _ in range(2):
        breaker.record_failure(breaker.admit())
    breaker.reset()  # Redis forgot it, and the messages

    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()

    assert sorted(sent) == sorted([(str(fell_due.pk), None), (str(later.pk), None)])
    for job in (fell_due, later):
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED
        assert timezone.now() - timedelta(seconds=5) < job.due_at <= timezone.now()


def test_a_late_close_of_a_forgotten_outage_resumes_nothing_while_a_new_one_is_open(
    breaker, sent, django_capture_on_commit_callbacks
):
    """The sweep closes an episode whose state Redis lost, but by then the account's breaker
    has opened again on a new outage: its waiting jobs would only be refused again. They wait
    for the new outage's close."""
    from webhooks.models import Event, EventType
    from webhooks.tasks import webhook_deliveries_sweep

    job = waiting_job()
    for _ in range(2):
        breaker.record_failure(breaker.admit())
    breaker.reset()  # Redis forgot it
    for _ in range(2):
        breaker.record_failure(breaker.admit())  # a new outage, open

    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_sweep()

    assert Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED).count() == 1
    assert sent == []
    assert Job.objects.get(pk=job.pk).due_at == job.due_at

"""At-least-once delivery, crashes and lost messages: still one clone per tenant."""

import random
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.accounts import integrator_account_default
from provisioning.models import ApiCall, Job, JobKind, JobOrigin, JobStatus, JobStep, StepStatus
from provisioning.orphan_scan import orphans_scan
from provisioning.services import job_cancel, job_request, job_retry
from provisioning.steps import PLANS
from provisioning.tasks import job_run
from tenants.models import TenantStatus
from tests.fixtures.world import sweep_now


def provision(tenant):
    return job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)


def test_it_clones_once_when_a_message_is_delivered_several_times(world):
    tenant = world.tenant("Duplicated")
    world.sandbox.control.set_latency(100)  # keeps the first run busy while the others arrive
    with transaction.atomic():
        job = provision(tenant)
        for _ in range(3):
            job_run.delay_on_commit(str(job.pk))

    [job] = world.wait(job)

    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 1  # the duplicates found the lease held, or the job done
    assert len(world.clones(tenant)) == 1
    assert ApiCall.objects.filter(job=job, method="POST").count() == 1


def test_it_keeps_at_most_one_unfinished_job_per_tenant_in_the_database(world):
    tenant = world.tenant("Constrained", ready=False)
    Job.objects.create(tenant=tenant, kind="provision", requested_by="api", due_at=timezone.now())

    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(tenant=tenant, kind="repair", requested_by="api", due_at=timezone.now())


def test_it_resends_a_job_whose_message_was_lost(world):
    tenant = world.tenant("Lost message")
    # The row exists, its message never reached the broker.
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.SCHEDULE,
        due_at=timezone.now() - timedelta(seconds=10),
    )
    JobStep.objects.bulk_create(
        JobStep(job=job, name=name, position=n) for n, name in enumerate(PLANS[job.kind], 1)
    )

    assert sweep_now() == [job.pk]
    assert sweep_now() == []  # one re-send per grace period, not one per sweep
    [job] = world.wait(job)

    assert job.status == JobStatus.SUCCEEDED
    assert len(world.clones(tenant)) == 1


def test_it_survives_workers_killed_at_random_moments(world, settings):
    """SIGKILL the worker while it provisions a batch, restart it, repeat; the sweeper re-sends
    what the dead worker held once its leases expire."""
    tenants = [world.tenant(f"Crash {n}") for n in range(12)]
    world.sandbox.control.set_latency(200, 100)
    jobs = [provision(t) for t in tenants]
    rng = random.Random(6)
    kills = 0
    for _ in range(3):
        time.sleep(rng.uniform(0.5, 2.0))
        world.engine.kill()
        kills += 1
        world.engine.restart()
        sweep_now()

    jobs = world.wait(jobs, timeout=80, sweep=True)

    assert kills == 3
    assert any(job.attempts > 1 for job in jobs), "no kill interrupted a job: nothing was tested"
    integrations = world.objects("integrations")
    assert len(integrations) == 1 + len(tenants), "no duplicates, no orphans"
    for job, tenant in zip(jobs, tenants, strict=True):
        assert job.status == JobStatus.SUCCEEDED, job.error_message
        tenant.refresh_from_db()
        assert tenant.status == TenantStatus.ACTIVE
        [clone] = world.clones(tenant)
        assert clone["_id"] == tenant.integration_id
        steps = list(job.steps.order_by("position"))
        assert all(s.status == StepStatus.SUCCEEDED and s.attempts >= 1 for s in steps)
        finished = [s.finished_at for s in steps]
        assert finished == sorted(finished)
        assert steps[1].output["integration_id"] == tenant.integration_id
    settings.ORPHANS_GRACE_SECONDS = 0
    scan = orphans_scan(client=world.client, account=integrator_account_default())
    assert scan.found == []


def test_it_stops_a_running_job_that_is_canceled_and_retries_it_cleanly(world):
    tenant = world.tenant("Canceled midway")
    world.sandbox.control.set_latency(400)
    job = provision(tenant)
    deadline = time.monotonic() + 20
    while not job.steps.filter(name="wire", status=StepStatus.RUNNING).exists():
        assert time.monotonic() < deadline, "the job never reached the wire step"
        time.sleep(0.05)

    job = job_cancel(job=job)

    assert job.status == JobStatus.CANCELED
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.FAILED
    assert "canceled" in tenant.last_error
    # The worker notices at its next lease check and writes nothing more.
    time.sleep(3)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert not job.steps.filter(status=StepStatus.RUNNING).exists()

    world.sandbox.control.clear_latency()
    [job] = world.wait(job_retry(job=job, requested_by=JobOrigin.ADMIN))
    assert job.status == JobStatus.SUCCEEDED
    assert len(world.clones(tenant)) == 1


def test_it_fails_a_poison_job_that_keeps_dying(world):
    tenant = world.tenant("Poison")
    # Seven attempts died without a word (as if each killed its worker); the cap is 8.
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
        attempts=8,
        error_message="integrator.io: GET /v1/x -> 503",
    )
    JobStep.objects.bulk_create(
        JobStep(job=job, name=name, position=n) for n, name in enumerate(PLANS[job.kind], 1)
    )
    job_run.delay(str(job.pk))

    [job] = world.wait(job)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "attempts_exhausted"
    assert "GET /v1/x -> 503" in job.error_message
    assert world.clones(tenant) == []


def test_it_takes_over_a_job_whose_worker_died(world):
    tenant = world.tenant("Orphaned run")
    now = timezone.now()
    # A worker claimed it, started the first step, and vanished: its lease ran out.
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        status=JobStatus.RUNNING,
        due_at=now - timedelta(seconds=30),
        attempts=1,
        lease_owner="gone-worker:1:1",
        lease_generation=1,
        lease_expires_at=now - timedelta(seconds=1),
        started_at=now - timedelta(seconds=30),
    )
    JobStep.objects.bulk_create(
        JobStep(
            job=job,
            name=name,
            position=n,
            status=StepStatus.RUNNING if n == 1 else StepStatus.PENDING,
            attempts=1 if n == 1 else 0,
        )
        for n, name in enumerate(PLANS[job.kind], 1)
    )

    assert sweep_now() == [job.pk]
    [job] = world.wait(job)

    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 2
    assert job.lease_generation == 2
    assert job.steps.get(name="connections").attempts == 2
    assert len(world.clones(tenant)) == 1

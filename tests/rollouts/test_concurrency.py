"""Two drivers at once, and the driver as a Celery task in a real worker process."""

import threading
import time

import pytest
from django.db import connection

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from provisioning.services import jobs as provisioning_jobs
from rollouts import driver, services
from rollouts.models import Rollout, RolloutStatus
from rollouts.plan import RolloutSpec
from rollouts.services import rollout_start
from tests.rollouts.conftest import S, canary, finish_jobs, states, wave_of
from tests.rollouts.test_rollout_end_to_end import publish_next


def _two_at_once(call) -> list:
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def test_two_drivers_at_once_queue_each_wave_once(transactional_db, shop, five, monkeypatch):
    # Only the two drivers of this test act: no message reaches a worker (a session worker
    # of the suite would otherwise run the driver and the upgrade jobs too).
    monkeypatch.setattr(services, "send_on_commit", lambda *args, **kwargs: None)
    monkeypatch.setattr(provisioning_jobs, "send_on_commit", lambda *args, **kwargs: None)
    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("t1", wave_size=2), created_by="test"
    )
    real_job_request = driver.job_request

    def slow_job_request(**kwargs):
        time.sleep(0.3)  # holds the row lock while the other driver arrives
        return real_job_request(**kwargs)

    monkeypatch.setattr(driver, "job_request", slow_job_request)

    for wave in (1, 2, 3):
        _two_at_once(lambda: driver.rollout_advance(rollout_id=rollout.pk))
        rollout.refresh_from_db()
        assert rollout.current_wave == wave  # not wave + 1: no wave skipped or doubled
        queued = sorted(t for t, s in states(rollout).items() if s == S.QUEUED)
        assert queued == wave_of(rollout, wave)
        assert Job.objects.filter(status=JobStatus.QUEUED).count() == len(queued)
        finish_jobs(rollout)
    _two_at_once(lambda: driver.rollout_advance(rollout_id=rollout.pk))
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.COMPLETED
    assert Job.objects.count() == 5


@pytest.fixture
def rollout_worker(worker_factory):
    """A worker on the default queue only, the driver's, polling fast; the upgrade jobs run
    on the suite's engine (the provisioning queue)."""
    worker = worker_factory(queues="default", env={"ROLLOUTS_POLL_SECONDS": "0.2"})
    worker.start()
    return worker


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_a_real_worker_drives_the_rollout_to_completion(world, versions, rollout_worker):
    """The chain of messages alone (no beat, no test calling the driver) carries a rollout
    through its waves, while the engine moves each tenant for real."""
    tenants = []
    for n in range(3):
        tenant = world.tenant(f"Chain {n}")
        world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API))
        tenants.append(tenant)
    second = publish_next(world)

    rollout = rollout_start(
        template=world.template,
        to_version=second,
        spec=RolloutSpec(strategy="percent", wave_percent=34, max_failure_rate=0.0),
        created_by="test",
    )

    _wait(lambda: Rollout.objects.get(pk=rollout.pk).status == RolloutStatus.COMPLETED)
    rollout.refresh_from_db()
    assert rollout.next_check_at is None  # the chain ended with the rollout
    assert set(states(rollout).values()) == {S.SUCCEEDED}
    for tenant in tenants:
        tenant.refresh_from_db()
        assert tenant.template_version == second

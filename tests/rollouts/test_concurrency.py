"""Two drivers at once, and the driver as a Celery task in a real worker process."""

import threading
import time

import pytest
from django.db import connection

from provisioning.models import Job, JobStatus
from rollouts import driver
from rollouts.models import Rollout, RolloutStatus
from rollouts.services import rollout_start
from tests.rollouts.conftest import S, canary, finish_jobs, states, wave_of


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
    """A worker on the default queue only, the driver's: the upgrade jobs' messages (on the
    provisioning queue) are left alone, and the test finishes the jobs as the engine would."""
    worker = worker_factory(queues="default", env={"ROLLOUTS_POLL_SECONDS": "0.2"})
    worker.start()
    return worker


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_a_real_worker_drives_the_rollout_to_completion(
    transactional_db, rollout_worker, shop, five
):
    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("t2", wave_size=3), created_by="test"
    )

    def wave_queued(wave: int):
        return lambda: (
            Rollout.objects.get(pk=rollout.pk).current_wave == wave
            and all(states(rollout)[t] == S.QUEUED for t in wave_of(rollout, wave))
        )

    _wait(wave_queued(1))  # sent on commit; the worker queued the canary
    assert Job.objects.count() == 1
    finish_jobs(rollout)
    _wait(wave_queued(2))  # the chain of messages noticed, with no help from beat
    finish_jobs(rollout)
    _wait(wave_queued(3))
    finish_jobs(rollout)
    _wait(lambda: Rollout.objects.get(pk=rollout.pk).status == RolloutStatus.COMPLETED)
    rollout.refresh_from_db()
    assert rollout.next_check_at is None  # the chain ended with the rollout
    assert Job.objects.count() == 5
    assert set(states(rollout).values()) == {S.SUCCEEDED}

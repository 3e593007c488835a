"""Redis dies and comes back while the worker holds unacknowledged jobs: the worker lives on.

The Redis here is private (killing the shared one would break every other test run) and
unpersisted, so its restart loses every message: those the worker held unacknowledged, and
those published while it was down. The job rows are the outbox: the sweeper (what beat runs
every minute, here with the test policies' 2 s grace) re-sends what was lost, and the worker,
reconnected, finishes every job with one clone per tenant.
"""

import time

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from tenants.models import TenantStatus
from tests.fixtures.redis_server import celery_broker
from tests.fixtures.world import sweep_now

# Every job succeeds within this many seconds of Redis answering again (about 5 s here): the
# worker reconnects on its next attempt (2, then 4 s apart) and mingles (1 s), the sweeper
# re-sends a lost message 2 s after the job was due, and a provision takes 2-3 s of API calls
# at 0.25 s each. The rest is room for a loaded machine.
RECOVERY_BOUND_SECONDS = 30
# As the Procfile runs it: 16 threads, gossip and heartbeats. Fewer jobs than threads leaves
# the worker waiting on Redis for more (a BRPOP in flight) while it holds these unacknowledged,
# as a worker usually is. Losing Redis then stopped it whenever the worker noticed on one of
# its pub/sub sockets (remote control, gossip) before the BRPOP one, a race it lost in 5 of 6
# trials under `make run`. So the first round closes the pub/sub connections a moment before
# the SIGKILL; the second leaves the order to chance.
CONCURRENCY = 16
ROUNDS = 2
JOBS_IN_FLIGHT = 6
JOBS_WHILE_DOWN = 1
# Beyond the time the publishing of those takes (about 0.7 s of kombu's retries each).
REDIS_DOWN_SECONDS = 0.5


def provision(tenant) -> Job:
    return job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)


def test_the_worker_survives_redis_restarting_with_jobs_in_flight(
    world, redis_server, worker_factory
):
    private = {"TEST_REDIS_URL": redis_server.url, "REDIS_URL": redis_server.url}
    worker = worker_factory(env=private, concurrency=CONCURRENCY, lean=False)
    worker.start()
    per_round = JOBS_IN_FLIGHT + JOBS_WHILE_DOWN
    tenants = [world.tenant(f"Redis loss {n}") for n in range(ROUNDS * per_round)]
    world.sandbox.control.set_latency(250, 50)
    recovery_times = []
    with celery_broker(redis_server.url):
        for start in range(0, len(tenants), per_round):
            batch = tenants[start : start + per_round]
            recovery_times.append(
                _lose_redis_with_jobs_in_flight(
                    redis_server, worker, batch, pubsub_first=start == 0
                )
            )
    for tenant in tenants:
        tenant.refresh_from_db()
        assert tenant.status == TenantStatus.ACTIVE
        [clone] = world.clones(tenant)
        assert clone["_id"] == tenant.integration_id

    assert worker.process.poll() is None, _tail(worker.log_path)
    assert len(world.objects("integrations")) == 1 + len(tenants), "no duplicates"
    print(f"{len(tenants)} jobs; each round's finished {recovery_times} s after Redis came back")


def _lose_redis_with_jobs_in_flight(redis_server, worker, tenants, *, pubsub_first) -> float:
    """Kill Redis while the worker runs jobs, request more while it is down, start it again;
    return how long after that every job had succeeded."""
    in_flight, later = tenants[:JOBS_IN_FLIGHT], tenants[JOBS_IN_FLIGHT:]
    ids = [provision(t).pk for t in in_flight]
    deadline = time.monotonic() + 20
    while Job.objects.filter(pk__in=ids, status=JobStatus.RUNNING).count() < len(ids) // 2:
        assert time.monotonic() < deadline, "the worker never started the jobs"
        time.sleep(0.05)

    redis_server.kill(pubsub_first=pubsub_first)
    for tenant in later:
        # The row commits; its message cannot be sent, and the request goes on as usual (the
        # row is the outbox: the sweeper sends it).
        provision(tenant)
    requested_while_down = set(Job.objects.filter(tenant__in=later).values_list("pk", flat=True))
    ids += requested_while_down
    time.sleep(REDIS_DOWN_SECONDS)
    redis_server.start()
    back = time.monotonic()
    resent = set()
    while Job.objects.filter(pk__in=ids, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)):
        assert worker.process.poll() is None, (
            f"the worker exited ({worker.process.returncode}):\n{_tail(worker.log_path)}"
        )
        assert time.monotonic() - back < RECOVERY_BOUND_SECONDS, list(
            Job.objects.filter(pk__in=ids).values_list("status", "error_message")
        )
        resent.update(sweep_now())
        time.sleep(0.2)
    recovered_in = round(time.monotonic() - back, 1)

    statuses = list(Job.objects.filter(pk__in=ids).values_list("status", "error_message"))
    assert all(status == JobStatus.SUCCEEDED for status, _ in statuses), statuses
    # What was requested while Redis was down ran after it came back: the worker reconnected.
    assert len(requested_while_down) == len(later)
    assert requested_while_down <= resent
    return recovered_in


def _tail(path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

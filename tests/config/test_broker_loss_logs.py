"""What beat and the worker log while Redis, their broker, is away: one line per event.

README "When Redis goes away" says the service outlives it, so its log is read by an operator
during an expected fault: a traceback there says nothing they can act on and buries the lines
that do. Beat (Celery's scheduler) logged about 80 lines for each periodic task it could not
send, every second or so here (every 10 s in production); the worker a nine-line deprecation
warning at each connection loss. Both run as processes of their own, on a private Redis that
the test kills (never the shared one).
"""

import os
import subprocess
import sys
import time

import pytest

from tests.fixtures.worker import QUICK_POLICIES, REPO_ROOT, _test_database_url

# Beat sends the outage probe every INTEGRATOR_BREAKER_PROBE_SECONDS (1 s in QUICK_POLICIES).
SENDS_WHILE_DOWN = 3


def _wait_for(path, text: str, *, count: int = 1, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = path.read_text(errors="replace")
        if log.count(text) >= count:
            return log
        time.sleep(0.1)
    pytest.fail(f"{text!r} not logged {count} time(s) within {timeout} s:\n{log[-3000:]}")


@pytest.fixture
def beat_env(django_db_setup, django_db_blocker, redis_server):
    with django_db_blocker.unblock():
        database_url = _test_database_url()
    return {
        **os.environ,
        **QUICK_POLICIES,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_URL": database_url,
        "TEST_REDIS_URL": redis_server.url,
        "REDIS_URL": redis_server.url,
        "PYTHONUNBUFFERED": "1",
    }


def test_beat_logs_one_line_per_periodic_task_it_cannot_send(beat_env, redis_server, tmp_path):
    log_path = tmp_path / "beat.log"
    with open(log_path, "wb") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "beat-schedule")],
            cwd=REPO_ROOT,
            env=beat_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            sending = "Sending due task provisioning-outage-probe"
            sent_before = _wait_for(log_path, sending).count(sending)
            redis_server.kill()
            _wait_for(log_path, sending, count=sent_before + SENDS_WHILE_DOWN)
        finally:
            beat.terminate()
            beat.wait(timeout=15)
    output = log_path.read_text(errors="replace")

    assert "Traceback" not in output, output[-3000:]
    assert 'File "' not in output, output[-3000:]
    not_sent = [line for line in output.splitlines() if "not sent, the broker failed" in line]
    assert len(not_sent) >= SENDS_WHILE_DOWN - 1, output[-3000:]
    line = not_sent[0]
    assert "WARNING" in line
    assert "provisioning-outage-probe (provisioning.outage_probe)" in line
    assert "sent again at its next due time" in line
    assert f"127.0.0.1:{redis_server.port}" in line  # which broker, as the worker says it


def test_the_worker_logs_the_connection_loss_without_celerys_deprecation_notice(
    redis_server, worker_factory
):
    private = {"TEST_REDIS_URL": redis_server.url, "REDIS_URL": redis_server.url}
    worker = worker_factory(env=private, lean=False)
    worker.start()
    # Lost a moment after "ready", Celery's Gossip step sometimes fails to restart with a
    # traceback of its own (a race in Celery, not this notice): Redis dies later in real life.
    time.sleep(2)
    redis_server.kill()
    output = _wait_for(worker.log_path, "Trying again in", count=2)
    worker.stop()
    output = worker.log_path.read_text(errors="replace")

    assert "Connection to broker lost" in output, output[-3000:]
    assert "CPendingDeprecationWarning" not in output, output[-3000:]
    assert "In Celery 5.1 we introduced" not in output

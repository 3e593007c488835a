"""bench/outage.py's lanes phase measures the interactive pings for the seconds it is asked,
however long its processes take to start: it started its clock before spawning them, so a
short phase (`--lane-seconds 4` on a busy machine) ended before the pinger's first ping and
printed "nan ms (0 pings)" as a missed target."""

import multiprocessing
import os

import pytest

from bench import outage
from bench.harness import Sandbox


@pytest.fixture
def sandbox(monkeypatch):
    # The workers are spawned processes: they read the suite's Redis from the environment.
    monkeypatch.setenv("BENCH_REDIS_URL", os.environ["REDIS_URL"])
    started = Sandbox(outage.TOKEN)
    started.set_latency(5)
    yield started
    started.stop()


def test_a_short_lanes_phase_still_measures_its_pings(sandbox):
    options = {"processes": 1, "threads": 2, "rate": 100, "probe": 2}
    context = multiprocessing.get_context("spawn")

    waits = outage.phase_lanes(
        context, sandbox, "bench-outage-test-lanes", options, 1.5, floor=10.0
    )

    # A ping every 50 ms or so for 1.5 s, each a few ms at the sandbox's 5 ms latency.
    assert len(waits) >= 10, waits

"""webhooks/README.md is what a host-app developer reads to receive events: its table lists
every event type the service sends, and the files it points at exist."""

import math
import random
import re
from pathlib import Path

import pytest
from django.conf import settings

from retry_policy import retry_delay
from rollouts import events as rollout_events
from rollouts.models import Rollout, RolloutStatus, RolloutStrategy
from tests.fixtures.factories import TenantFactory
from webhooks.models import Event, EventType

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "webhooks" / "README.md").read_text()


def test_the_events_table_lists_every_event_type():
    listed = set(re.findall(r"^\| `([a-z_]+(?:\.[a-z_]+)?)` \|", README, flags=re.MULTILINE))

    assert listed == set(EventType.values)


def test_the_files_it_names_exist():
    named = set(re.findall(r"`([a-z_]+/[a-z_/]+\.py)`", README))

    assert named
    assert {path for path in named if not (ROOT / path).exists()} == set()


class _Bound(random.Random):
    """An rng at one end of every jitter range: the shortest or the longest wait."""

    def __init__(self, end: str):
        super().__init__()
        self.end = end

    def uniform(self, a, b):
        return a if self.end == "low" else b


def _waits(end: str) -> list[float]:
    # The waits after attempts 1 .. WEBHOOK_MAX_ATTEMPTS - 1, as the worker computes them.
    return [
        retry_delay(
            attempt=attempts,
            base=settings.WEBHOOK_RETRY_BASE_SECONDS,
            cap=float(settings.WEBHOOK_RETRY_MAX_SECONDS),
            rng=_Bound(end),
        )
        for attempts in range(1, settings.WEBHOOK_MAX_ATTEMPTS)
    ]


def test_the_retry_schedule_it_states_is_the_one_the_worker_keeps():
    # A receiver's developer sizes an outage to survive by these numbers: the first retry
    # may come after half the base wait, and the whole schedule spans what is written.
    low, high = _waits("low"), _waits("high")
    stated = ", ".join(f"{a:g} to {b:g} s" for a, b in zip(low[:3], high[:3], strict=True))

    assert settings.WEBHOOK_MAX_ATTEMPTS == 10  # the README's "10 attempts in all"
    assert f"({stated} ..." in " ".join(README.split())
    span = f"{math.floor(sum(low) / 60)} to {math.ceil(sum(high) / 60)} minutes"
    assert span in " ".join(README.split())


def test_connection_failed_is_said_to_come_from_every_check_once_per_failure():
    # The check on request (POST .../check-connections, the integration page's "Check again")
    # records it as the periodic one does, and only when the connection goes from working to
    # failed: a receiver waiting for a scheduled check, or for one event per check, is misled.
    from drf_spectacular.generators import SchemaGenerator

    row = next(line for line in README.splitlines() if line.startswith("| `connection.failed`"))
    schema = SchemaGenerator().get_schema(request=None, public=True)
    described = schema["webhooks"]["connection.failed"]["post"]["description"]

    for text in (row, described):
        assert "scheduled check" not in text
        assert "check-connections" in text
        assert "once" in text


def _data_fields_listed(event_type: str) -> set[str]:
    row = re.search(rf"^\| `{re.escape(event_type)}` \|.*\| (.*) \|$", README, flags=re.MULTILINE)
    return set(re.findall(r"`([a-z_]+)`", row[1]))


@pytest.mark.django_db
def test_each_rollout_events_data_is_listed_as_it_is_recorded():
    # "same, with ..." made a receiver expect rollout.started's `strategy` in every rollout
    # event; only rollout.started carries it.
    tenant = TenantFactory()
    rollout = Rollout.objects.create(
        template=tenant.template,
        to_version=tenant.template_version,
        strategy=RolloutStrategy.PERCENT,
        wave_percent=50,
        max_failure_rate=0.1,
        status=RolloutStatus.RUNNING,
        created_by="ops",
    )
    rollout_events.rollout_started_record(rollout, tenants=1)
    rollout_events.rollout_halted_record(rollout, failure_rate=0.5)
    rollout_events.rollout_completed_record(rollout, counts={"succeeded": 1})
    rollout_events.rollout_aborted_record(rollout, counts={"succeeded": 1})
    rollout_events.rollout_rolled_back_record(rollout, counts={"rolled_back": 1})

    recorded = {event.event_type: set(event.data) for event in Event.objects.all()}
    assert len(recorded) == 5
    assert {t: _data_fields_listed(t) for t in recorded} == recorded

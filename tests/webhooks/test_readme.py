"""webhooks/README.md is what a host-app developer reads to receive events: its table lists
every event type the service sends, and the files it points at exist."""

import re
from pathlib import Path

from webhooks.models import EventType

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "webhooks" / "README.md").read_text()


def test_the_events_table_lists_every_event_type():
    listed = set(re.findall(r"^\| `([a-z_]+(?:\.[a-z_]+)?)` \|", README, flags=re.MULTILINE))

    assert listed == set(EventType.values)


def test_the_files_it_names_exist():
    named = set(re.findall(r"`([a-z_]+/[a-z_/]+\.py)`", README))

    assert named
    assert {path for path in named if not (ROOT / path).exists()} == set()

"""`send_on_commit`: a task goes to the real worker once the transaction commits, never when
it rolls back. (Its behaviour with the broker down is in test_redis_down.py.)"""

import time
import uuid

from django.db import transaction

from core.outbox import send_on_commit
from tests.celery_probe.models import ProbeRow
from tests.celery_probe.tasks import write_probe_row


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_it_sends_the_task_once_the_transaction_commits(transactional_db, celery_worker):
    label, later = uuid.uuid4().hex, uuid.uuid4().hex
    with transaction.atomic():
        send_on_commit(write_probe_row, label)
        send_on_commit(write_probe_row, later, countdown=1)
        assert not ProbeRow.objects.filter(label=label).exists()

    assert wait_for(lambda: ProbeRow.objects.filter(label=label).exists())
    assert wait_for(lambda: ProbeRow.objects.filter(label=later).exists())


def test_it_sends_nothing_when_the_transaction_rolls_back(transactional_db, celery_worker):
    rolled_back, committed = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        with transaction.atomic():
            send_on_commit(write_probe_row, rolled_back)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    send_on_commit(write_probe_row, committed)

    # Tasks run in order on one queue: once the later one has run, the first would have too.
    assert wait_for(lambda: ProbeRow.objects.filter(label=committed).exists())
    assert not ProbeRow.objects.filter(label=rolled_back).exists()

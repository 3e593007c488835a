"""Tasks run in a real worker process through the Redis broker."""

import time
import uuid

from django.db import transaction

from tests.celery_probe.models import ProbeRow
from tests.celery_probe.tasks import write_probe_row


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_it_runs_a_task_in_a_real_worker(transactional_db, celery_worker):
    label = uuid.uuid4().hex
    with transaction.atomic():
        write_probe_row.delay_on_commit(label)
        # Enqueued on commit: nothing can have run while the transaction is open.
        assert not ProbeRow.objects.filter(label=label).exists()

    assert wait_for(lambda: ProbeRow.objects.filter(label=label).exists())


def test_it_drops_the_task_when_the_transaction_rolls_back(transactional_db, celery_worker):
    rolled_back, committed = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        with transaction.atomic():
            write_probe_row.delay_on_commit(rolled_back)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    write_probe_row.delay_on_commit(committed)

    # Tasks run in order on one queue: once the later one has run, the first would have too.
    assert wait_for(lambda: ProbeRow.objects.filter(label=committed).exists())
    assert not ProbeRow.objects.filter(label=rolled_back).exists()

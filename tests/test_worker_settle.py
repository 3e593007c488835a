"""The wait before a transactional test's flush outlasts the gaps between another
connection's transactions (a worker's task runs several, milliseconds apart)."""

import threading
import time

import pytest
from django.db import connection, transaction

from tests.fixtures.worker import worker_transactions_settle

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_waits_through_the_gaps_between_another_connections_transactions():
    running_until = time.monotonic() + 1.5
    stopped = threading.Event()

    def a_task_with_many_transactions():
        try:
            while time.monotonic() < running_until:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.03)")
                time.sleep(0.01)  # between two transactions: idle
        finally:
            connection.close()
            stopped.set()

    worker = threading.Thread(target=a_task_with_many_transactions)
    worker.start()
    time.sleep(0.1)

    worker_transactions_settle(timeout=5)

    assert stopped.is_set(), "settled while the other connection was still at work"
    worker.join()

"""Closing a Redis broker connection after Redis died, as the worker does on losing it.

The worker's consumer, told the broker is gone, collects its connection and then closes it
(Celery 5.7), ignoring connection errors only. This replays that on a real kombu connection to
a private Redis, in the state that used to kill the worker: on the consuming channel a message
delivered and not acknowledged, and a BRPOP for the next one in flight; on a second channel, a
broadcast consumer (the worker's remote control has one). Then Redis is SIGKILLed.
"""

import contextlib
import time

from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

import config.celery  # noqa: F401 (the Celery app applies the broker workarounds)


def test_closing_after_redis_died_with_a_brpop_in_flight(redis_server):
    tasks = Queue("redis-close-test", routing_key="redis-close-test")
    with Connection(redis_server.url) as producer:
        producer.SimpleQueue(tasks.name).put({"n": 1})
    connection = Connection(redis_server.url)
    channel = connection.default_channel
    delivered = []
    consumer = connection.Consumer(tasks, channel=channel, callbacks=[_keep(delivered)])
    consumer.qos(prefetch_count=2)
    consumer.consume()
    broadcast = Queue("redis-close-test.pidbox", Exchange("redis-close-test", "fanout"))
    broadcast.auto_delete = True
    connection.Consumer(broadcast, channel=connection.channel(), callbacks=[_keep([])]).consume()
    deadline = time.monotonic() + 5
    while not delivered and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=0.2)
    assert len(delivered) == 1  # held, unacknowledged
    channel._brpop_start()  # waiting for the next one, as the worker's event loop does

    redis_server.kill()
    with contextlib.suppress(Exception):  # as Celery's consumer does
        connection.collect(socket_timeout=1)
    ignore_errors(connection, connection.close)  # raised AttributeError with kombu 5.7.0

    assert channel.closed


def _keep(messages):
    return lambda body, message: messages.append(message)

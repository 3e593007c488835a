"""A workaround for kombu's Redis transport (5.7.0): a channel closed after Redis died must
still end up closed, or losing Redis stops the worker.

What happened: the worker waits for its next task with a BRPOP in flight on the consuming
channel, and holds tasks it has not acknowledged yet. Redis dies, and the worker notices on
another socket first (remote control or gossip, pub/sub). Celery's consumer then collects
the connection: kombu closes each channel, but the consuming channel's close starts by
reading the BRPOP reply still in flight, which raises on the dead socket, so that close
stops before anything is done; the next channel's close raises too (deleting its broadcast
queue), which ends the loop; and kombu detaches the transport from the connection. Celery
5.7 then closes the connection again, ignoring connection errors only. This time the
consuming channel gets past the read (it cleared its BRPOP state), tries to put its
unacknowledged tasks back, needs a new Redis client for that, and builds its address from the
detached transport: AttributeError ('NoneType' object has no attribute 'hostname'), which
Celery reports as an "Unrecoverable error" before the worker exits.

The fix: when reading the reply in flight fails with a connection error, there is no reply to
wait for; go on closing. The first close then completes (its attempt to put the tasks back
fails on the dead server, a connection error that kombu ignores there), and the second close
has nothing left to do. The tasks come back all the same: their copies stay in Redis's
unacked set and return after the visibility timeout (when Redis kept its data), and our job
rows are the outbox that the sweeper re-sends from (when it did not).

This is kombu's Channel.close preceded by the same read with one more exception handled;
no reply is read twice (a successful read clears the BRPOP state that kombu checks). Remove
it once kombu's close gets past a failed read by itself (tests/config/test_redis_channel_close.py
shows when: it passes without this module).
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis

_PATCHED = "_closes_after_a_failed_brpop_read"


def redis_channel_close_patch() -> None:
    """Make kombu's Redis Channel.close get past a failed read of a BRPOP in flight."""
    channel_class = kombu_redis.Channel
    if getattr(channel_class, _PATCHED, False):
        return
    close = channel_class.close

    def close_after_a_failed_brpop_read(self) -> None:
        self._closing = True
        if self._in_poll:
            try:
                self._brpop_read()
            except kombu_redis.Empty:
                pass
            except self.connection_errors:
                pass  # the server is gone: no reply will come (kombu dropped the socket)
        close(self)

    channel_class.close = close_after_a_failed_brpop_read
    setattr(channel_class, _PATCHED, True)

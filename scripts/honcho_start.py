"""`honcho start` for `make run` (scripts/run.sh), kept able to stop everything after its
terminal has closed.

A terminal that closes hangs up its tty and sends SIGHUP to its foreground group: make, run.sh
and honcho. honcho handles SIGINT and SIGTERM only, so it died of the SIGHUP at once and left
every process it had started (each in a session of its own, which the SIGHUP does not reach)
running, their ports taken. And once the tty is hung up, every write to it fails (EIO): honcho's
own "SIGTERM received" line raised in its signal handler, before it had stopped anything.

Here a SIGHUP is a stop like SIGTERM (honcho sends SIGTERM to every process, waits for them,
and exits), and output that the terminal can no longer take is dropped instead of ending honcho.
The command line is honcho's: `python scripts/honcho_start.py -f Procfile --env /dev/null`.
"""

from __future__ import annotations

import os
import signal
import sys

from honcho.command import main as honcho_main


class DroppedWhenGone:
    """A text stream that, after a write fails (the terminal hung up), drops what follows."""

    def __init__(self, stream):
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                self._stream.write(text)
            except OSError:
                self._gone = True
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except OSError:
                self._gone = True

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str]) -> int:
    sys.stdout = DroppedWhenGone(sys.stdout)
    sys.stderr = DroppedWhenGone(sys.stderr)
    manager_pid = os.getpid()

    def hang_up(signum, frame) -> None:
        # honcho's processes are forked from it with this handler: the one that relays each
        # process's output must go on doing so while honcho stops them, so only honcho acts.
        if os.getpid() == manager_pid:
            os.kill(manager_pid, signal.SIGTERM)

    signal.signal(signal.SIGHUP, hang_up)
    honcho_main(["start", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

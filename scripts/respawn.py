"""Run a long-running process of `make run` and start it again whenever it exits on its own.

honcho (the Procfile's process manager) restarts nothing: when one process exits, it stops all
the others. Each Procfile line therefore runs its command under this script:

    python scripts/respawn.py --name worker -- .venv/bin/celery -A config worker ...

- The command exits without being asked to (a crash, whatever its status): log one line,
  wait --delay seconds, start it again.
- It exits within --min-uptime seconds of its first start: a start-up error (a port in use,
  a bad setting) that starting again would only repeat; exit with its status, so that honcho
  stops everything and the error is the last thing on screen.
- It exits with status 78 (EX_CONFIG: a configuration error, config/startup.py), however long
  it ran: the same, whatever --min-uptime says. A slow start (runserver's checks on a busy
  machine) outlasted --min-uptime, and the error came back every few seconds, for ever.
- SIGINT or SIGTERM (Ctrl-C: honcho sends SIGTERM to each process group): pass SIGTERM on to
  the command (which may have had it already: a warm shutdown for Celery either way), wait for
  it to exit, and exit with its status. No restart.

Standard library only; the log line names the process, never its command line.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

# sysexits.h's EX_CONFIG, what config/startup.py exits with on a configuration error.
EX_CONFIG = 78


class Respawner:
    def __init__(self, command: list[str], *, name: str, delay: float, min_uptime: float):
        self.command = command
        self.name = name
        self.delay = delay
        self.min_uptime = min_uptime
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def stop(self, signum, frame) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        first = True
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)  # noqa: S603 (what it is here for)
            if self.stopping:  # a signal came before there was a child to pass it on to
                self.child.send_signal(signal.SIGTERM)
            status = self.child.wait()
            if self.stopping:
                return _exit_status(status)
            if status == EX_CONFIG:
                self._log(
                    f"exited with a configuration error (status {EX_CONFIG}, its message is "
                    "above); not restarting it: fix the setting, then start again"
                )
                return EX_CONFIG
            if first and time.monotonic() - started < self.min_uptime:
                self._log(f"exited during start-up ({_describe(status)}); not restarting it")
                return _exit_status(status)
            first = False
            self._log(f"exited ({_describe(status)}); starting it again in {self.delay:g} s")
            until = time.monotonic() + self.delay
            while time.monotonic() < until:
                if self.stopping:
                    return _exit_status(status)
                time.sleep(0.05)

    def _log(self, message: str) -> None:
        print(f"respawn: {self.name} {message}", file=sys.stderr, flush=True)


def _describe(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"status {status}"


def _exit_status(status: int) -> int:
    return 128 - status if status < 0 else status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True, help="the process's name, for the log line")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds before a restart")
    parser.add_argument(
        "--min-uptime", type=float, default=5.0, help="an earlier first exit is not restarted"
    )
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args(argv)
    respawner = Respawner(
        args.command, name=args.name, delay=args.delay, min_uptime=args.min_uptime
    )
    signal.signal(signal.SIGINT, respawner.stop)
    signal.signal(signal.SIGTERM, respawner.stop)
    return respawner.run()


if __name__ == "__main__":
    sys.exit(main())

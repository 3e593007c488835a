"""scripts/respawn.py: `make run`'s processes start again after a crash, and stop on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# The command under respawn: records its pid, then runs until signalled (or exits at once
# with the status given).
PROBE = """
import sys, time
with open(sys.argv[1], "a") as f:
    print(__import__("os").getpid(), file=f)
if len(sys.argv) > 2:
    sys.exit(int(sys.argv[2]))
time.sleep(60)
"""


def respawn(tmp_path, *probe_args, min_uptime="0"):
    pids = tmp_path / "pids"
    pids.touch()
    log = tmp_path / "respawn.log"
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "respawn.py"),
            "--name",
            "probe",
            "--delay",
            "0.2",
            "--min-uptime",
            min_uptime,
            "--",
            sys.executable,
            "-c",
            PROBE,
            str(pids),
            *probe_args,
        ],
        stderr=log.open("w"),
    )
    return process, pids, log


def started(pids: Path, count: int, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [int(line) for line in pids.read_text().split()]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{count} start(s) expected, saw {pids.read_text().split()}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not reaped yet by respawn) is gone for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"


def test_it_starts_the_command_again_after_it_crashes_and_stops_it_on_ctrl_c(tmp_path):
    process, pids, log = respawn(tmp_path)
    try:
        [first] = started(pids, 1)
        os.kill(first, signal.SIGKILL)
        [_, second] = started(pids, 2)
        assert second != first

        process.send_signal(signal.SIGINT)  # to respawn only: it passes SIGTERM on
        assert process.wait(timeout=10) == 128 + signal.SIGTERM
    finally:
        process.kill()
    assert not alive(second)
    assert len(pids.read_text().split()) == 2, "no restart after Ctrl-C"
    assert log.read_text() == (
        "respawn: probe exited (killed by SIGKILL); starting it again in 0.2 s\n"
    )


def test_it_stops_waiting_to_restart_on_sigterm(tmp_path):
    process, pids, log = respawn(tmp_path, "1")
    try:
        started(pids, 2)  # it exits with 1 each time, and is started again
        process.send_signal(signal.SIGTERM)
        # The signal finds it waiting to restart (it exits with the command's last status) or
        # a command just started (which it stops: killed by SIGTERM); either way, promptly.
        assert process.wait(timeout=10) in (1, 128 + signal.SIGTERM)
        starts = len(pids.read_text().split())
        time.sleep(0.5)  # longer than the restart delay
    finally:
        process.kill()
    assert len(pids.read_text().split()) == starts, "no restart after SIGTERM"
    assert "respawn: probe exited (status 1); starting it again in 0.2 s\n" in log.read_text()


def test_it_gives_up_on_a_command_that_fails_as_it_starts(tmp_path):
    process, pids, log = respawn(tmp_path, "3", min_uptime="5")
    try:
        assert process.wait(timeout=10) == 3
    finally:
        process.kill()
    assert len(pids.read_text().split()) == 1
    assert log.read_text() == (
        "respawn: probe exited during start-up (status 3); not restarting it\n"
    )


def test_it_never_restarts_a_command_that_exits_with_a_configuration_error(tmp_path):
    """Status 78 (EX_CONFIG, config/startup.py) is a setting to fix: started again, the
    command would fail the same way for ever, however long it ran first."""
    process, pids, log = respawn(tmp_path, "78", min_uptime="0")
    try:
        assert process.wait(timeout=10) == 78
        time.sleep(0.5)  # longer than the restart delay
    finally:
        process.kill()
    assert len(pids.read_text().split()) == 1
    assert log.read_text() == (
        "respawn: probe exited with a configuration error (status 78, its message is above); "
        "not restarting it: fix the setting, then start again\n"
    )

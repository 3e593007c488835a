"""scripts/run.sh (`make run`): the environment wins over `.env` in every process it starts, as
the README's Configuration section says ("a .env file fills in what the environment leaves
unset") and as manage.py has it (config/settings.py).

run.sh runs in a copy of itself beside stand-ins: a manage.py that does nothing (migrate,
seed_demo) and a Procfile whose one process prints what it was given; honcho and Python are
the real ones, from the repository's .venv."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import os; print('probe', *(f'{n}={os.environ.get(n)}' for n in "
    "('DEBUG', 'LOG_FORMAT', 'METRICS_TOKEN')), flush=True)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_sh(tmp_path, env: dict[str, str]) -> str:
    [line] = [line for line in run_sh_output(tmp_path, env).splitlines() if "probe " in line]
    return line


def make_checkout(tmp_path, probe: str = PROBE) -> Path:
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for script in ("run.sh", "honcho_start.py", "env_file.py"):
        (checkout / "scripts" / script).write_text((REPO_ROOT / "scripts" / script).read_text())
    (checkout / ".venv").symlink_to(Path(sys.prefix))
    (checkout / "manage.py").write_text("")
    (checkout / "Procfile").write_text(f'probe: .venv/bin/python -c "{probe}"\n')
    (checkout / ".env").write_text(
        "DEBUG=1\nSECRET_KEY=from-the-env-file\nMETRICS_TOKEN=from-the-env-file-token\n"
    )
    return checkout


def run_sh_env(tmp_path, env: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        # Free ports: a `make run` going on 8000 and 8100 must not fail the suite.
        "PORT": str(free_port()),
        "SANDBOX_PORT": str(free_port()),
        **env,
    }


def run_sh_output(tmp_path, env: dict[str, str], probe: str = PROBE) -> str:
    return run_sh_result(tmp_path, env, probe)[1]


def run_sh_result(tmp_path, env: dict[str, str], probe: str = PROBE) -> tuple[int, str]:
    checkout = make_checkout(tmp_path, probe)
    # Into a file, not a pipe: a process run.sh leaves behind (a private redis-server) would hold
    # a pipe open, and the run would seem never to end.
    output = tmp_path / "run.out"
    with output.open("w") as out:
        completed = subprocess.run(
            ["bash", "scripts/run.sh"],
            cwd=checkout,
            env=run_sh_env(tmp_path, env),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
    return completed.returncode, output.read_text()


def test_a_variable_of_the_environment_wins_over_the_env_file(tmp_path):
    line = run_sh(tmp_path, {"DEBUG": "0", "LOG_FORMAT": "json"})

    # `DEBUG=0 make run` ran the web server, the worker and beat with .env's DEBUG=1 (honcho
    # loaded .env over the environment), while migrate had run with DEBUG=0.
    assert "DEBUG=0" in line and "LOG_FORMAT=json" in line
    # What the environment leaves unset still comes from .env.
    assert "METRICS_TOKEN=from-the-env-file-token" in line


def test_without_the_variable_the_env_file_fills_it_in(tmp_path):
    line = run_sh(tmp_path, {})

    assert "DEBUG=1" in line and "METRICS_TOKEN=from-the-env-file-token" in line


def test_env_file_names_the_file_it_reads_and_its_run_file(tmp_path):
    """`ENV_FILE=dev.env make run` read .env and wrote .env.run, while its processes, given
    ENV_FILE, read dev.env and looked for dev.env.run."""
    probe = (
        "import os; print('probe', *(f'{n}={os.environ.get(n)}' for n in "
        "('DEBUG', 'METRICS_TOKEN', 'ENV_FILE')), "
        "'run-file', os.path.exists('dev.env.run'), os.path.exists('.env.run'), flush=True)"
    )
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "dev.env").write_text("DEBUG=1\nMETRICS_TOKEN=from-dev-env-token\n")

    output = run_sh_output(tmp_path, {"ENV_FILE": "dev.env"}, probe)

    [line] = [line for line in output.splitlines() if "probe " in line]
    assert "METRICS_TOKEN=from-dev-env-token" in line, output
    assert f"ENV_FILE={checkout / 'dev.env'}" in line
    assert "run-file True False" in line  # dev.env.run while it runs, no .env.run
    assert not (checkout / "dev.env.run").exists()  # removed when the run ends


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on PATH")
def test_the_private_redis_it_started_is_stopped_when_it_exits(tmp_path):
    # Nothing answers on port 1, so run.sh starts a private redis-server; the stand-in
    # manage.py's seed_demo has exited long before honcho does, as the real one has after its
    # first minute. The cleanup's failed kill of that seed ended it under `set -e`, before it
    # stopped Redis: every `make run` that started one left a redis-server behind.
    output = run_sh_output(tmp_path, {"REDIS_URL": "redis://127.0.0.1:1/0"})
    [port] = re.findall(r"started a private redis-server on port (\d+)", output)
    client = redis.Redis(host="127.0.0.1", port=int(port), socket_connect_timeout=1)
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            try:
                client.ping()
            except redis.ConnectionError:
                return
            time.sleep(0.1)
        pytest.fail(f"the private redis-server on port {port} still runs after make run ended")
    finally:
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)


@pytest.mark.parametrize("variable", ["PORT", "SANDBOX_PORT"])
def test_a_port_in_use_stops_it_before_anything_starts_and_says_which(tmp_path, variable):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        output = run_sh_output(tmp_path, {variable: str(port)})

    # Before, the web server found it out after its start-up, which on a busy machine took
    # longer than respawn's --min-uptime, and was restarted every few seconds for ever.
    assert f"Port {port} ({variable}) is already in use" in output
    assert "probe " not in output


# A service that runs until it is stopped: it says so once up, and leaves its pid behind.
SERVING = (
    "import os, time; open('serving.pid', 'w').write(str(os.getpid())); "
    "print('probe serving', flush=True); time.sleep(120)"
)


@contextlib.contextmanager
def serving_run_sh(tmp_path):
    """run.sh in its own session (as a terminal's foreground group), once its service is up."""
    checkout = make_checkout(tmp_path, SERVING)
    output = tmp_path / "run.out"
    with output.open("w") as out:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=checkout,
            env=run_sh_env(tmp_path, {}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    serving_pid = None
    try:
        deadline = time.monotonic() + 30
        while "probe serving" not in output.read_text():
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.1)
        serving_pid = int((checkout / "serving.pid").read_text())
        yield process, output, serving_pid
    finally:
        # Whatever a failed test left behind: the run's group (honcho's too) and the service,
        # which honcho started in a session of its own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if serving_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(serving_pid, signal.SIGKILL)
        process.wait()


def children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie that no one has reaped yet has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_ctrl_c_ends_it_quietly_with_status_0_and_says_it_stopped(tmp_path):
    with serving_run_sh(tmp_path) as (process, output, _):
        # The terminal's Ctrl-C: SIGINT to the whole foreground group.
        os.killpg(process.pid, signal.SIGINT)
        status = process.wait(timeout=30)

    # honcho's 130 made `make run` end with "make: *** [Makefile:9: run] Error 130", which reads
    # like a failure after a normal stop.
    assert status == 0, output.read_text()
    assert "make run stopped" in output.read_text()


def test_sigterm_to_its_process_manager_ends_it_with_status_0(tmp_path):
    with serving_run_sh(tmp_path) as (process, output, serving_pid):
        [honcho] = [pid for pid, cmdline in children(process.pid) if "honcho" in cmdline]
        os.kill(honcho, signal.SIGTERM)
        status = process.wait(timeout=30)

    assert status == 0, output.read_text()
    assert "make run stopped" in output.read_text()
    assert not alive(serving_pid)


def test_a_process_that_fails_at_start_still_fails_the_run(tmp_path):
    status, output = run_sh_result(tmp_path, {}, probe="import sys; sys.exit(3)")

    assert status == 3, output
    assert "make run stopped" not in output


def test_sigterm_to_it_stops_every_process_before_it_ends(tmp_path):
    with serving_run_sh(tmp_path) as (process, output, serving_pid):
        [honcho] = [pid for pid, cmdline in children(process.pid) if "honcho" in cmdline]
        # What make does with a SIGTERM of its own (a supervisor's stop, `timeout make run`): it
        # passes it on to its recipe's shell, and to no one else.
        os.kill(process.pid, signal.SIGTERM)
        status = process.wait(timeout=30)

        # The shell died at once, and honcho went on with every process, its ports taken, as
        # orphans that the next `make run` found in its way.
        assert not alive(honcho), output.read_text()
        assert not alive(serving_pid), output.read_text()
    assert status == 0, output.read_text()
    assert "make run stopped" in output.read_text()


def test_the_terminal_closing_stops_every_process_before_it_ends(tmp_path):
    # A terminal that closes hangs up its tty (every write to it fails from then on) and sends
    # SIGHUP to the foreground group: make, this script, honcho. honcho died of it at once and
    # left the service (in a session of its own) running, its ports taken.
    primary, secondary = os.openpty()
    checkout = make_checkout(tmp_path, SERVING)
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=checkout,
        env=run_sh_env(tmp_path, {}),
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
    )
    os.close(secondary)
    serving_pid = None
    honcho = None
    try:
        deadline = time.monotonic() + 30
        while not (checkout / "serving.pid").exists() or not (checkout / "serving.pid").read_text():
            assert process.poll() is None
            assert time.monotonic() < deadline
            # Read what it prints, as a terminal does, so that nothing waits on a full tty.
            with contextlib.suppress(OSError):
                os.set_blocking(primary, False)
                os.read(primary, 65536)
            time.sleep(0.1)
        serving_pid = int((checkout / "serving.pid").read_text())
        [honcho] = [pid for pid, cmdline in children(process.pid) if "honcho" in cmdline]

        os.close(primary)  # the terminal's window closes: its tty is hung up
        primary = None
        os.killpg(process.pid, signal.SIGHUP)
        process.wait(timeout=30)

        deadline = time.monotonic() + 10
        while (alive(serving_pid) or alive(honcho)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(honcho)
        assert not alive(serving_pid)
    finally:
        if primary is not None:
            os.close(primary)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for pid in (serving_pid, honcho):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        process.wait()


SSL_PROBE = (
    "import os; print('probe', *(f'{n}={os.environ.get(n)}' for n in "
    "('SECURE_SSL_REDIRECT',)), flush=True)"
)


def test_with_debug_0_its_plain_http_server_does_not_redirect_to_https(tmp_path):
    """The README: with DEBUG=0, `make run` 'still serves with runserver'. runserver speaks
    plain HTTP only, and DEBUG=0 turns SECURE_SSL_REDIRECT on: every page but the probes
    answered 301 to https://127.0.0.1:8000/..., where nothing answers. make run gives its
    processes SECURE_SSL_REDIRECT=0 unless the environment or .env says otherwise."""
    output = run_sh_output(tmp_path, {"DEBUG": "0"}, probe=SSL_PROBE)

    assert "probe SECURE_SSL_REDIRECT=0" in output, output


def test_a_redirect_asked_for_still_holds(tmp_path):
    output = run_sh_output(tmp_path, {"DEBUG": "0", "SECURE_SSL_REDIRECT": "1"}, probe=SSL_PROBE)

    assert "probe SECURE_SSL_REDIRECT=1" in output, output


def test_while_it_runs_env_run_holds_the_addresses_it_gave_its_processes(tmp_path):
    """A manage.py command in another terminal (the README's load_template, check_drift) reads
    .env, which holds no ports: with `SANDBOX_PORT=9100 make run` it called the sandbox on 8100
    and Redis database 0. run.sh writes what it gave its processes to `.env.run`, which the
    settings read after .env, and removes it when the run ends."""
    probe = "print('probe', *open('.env.run').read().split(), flush=True)"
    sandbox_port, web_port = free_port(), free_port()
    env = {"SANDBOX_PORT": str(sandbox_port), "PORT": str(web_port)}

    line = run_sh_output(tmp_path, env, probe)
    [line] = [line for line in line.splitlines() if "probe " in line]

    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    assert f"WEB_PORT={web_port}" in line
    assert f"INTEGRATOR_API_URL=http://127.0.0.1:{sandbox_port}/v1" in line
    assert f"INTEGRATOR_EU_API_URL=http://127.0.0.1:{sandbox_port}/eu/v1" in line
    assert f"REDIS_URL={redis_url}" in line
    assert f"CELERY_BROKER_URL={redis_url}" in line
    assert not (tmp_path / "checkout" / ".env.run").exists()

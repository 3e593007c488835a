"""Every documented way of running the service starts its long-running processes again when
they exit: `make run` (Procfile, under scripts/respawn.py) and docker-compose.yml (a restart
policy on every service but the one-shot migration). scripts/respawn.py has its own tests."""

import re
import shlex
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
ONE_SHOT_SERVICES = {"migrate"}


def test_every_procfile_process_runs_under_respawn():
    lines = [line for line in (REPO_ROOT / "Procfile").read_text().splitlines() if line.strip()]
    processes = dict(line.split(":", 1) for line in lines)

    assert set(processes) == {"sandbox", "web", "worker", "beat"}
    for name, command in processes.items():
        words = shlex.split(command)
        assert words[1:4] == ["scripts/respawn.py", "--name", name], command
        assert "--" in words, command


def test_every_long_running_compose_service_has_a_restart_policy():
    # safe_load resolves the `<<: *app` merges as compose does.
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]

    assert {"postgres", "redis", "web", "worker", "beat", "sandbox"} <= set(services)
    for name, service in services.items():
        expected = {"no"} if name in ONE_SHOT_SERVICES else {"always", "unless-stopped"}
        assert service.get("restart") in expected, name


def _celery_commands_in_production() -> list[list[str]]:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    commands = [services[name]["command"] for name in ("worker", "beat")]
    readme = (REPO_ROOT / "README.md").read_text()
    commands += [
        shlex.split(line.removeprefix("ExecStart="))
        for line in readme.splitlines()
        if line.startswith("ExecStart=") and "celery" in line
    ]
    return commands


def test_production_celery_processes_print_no_banner_into_the_json_log():
    """In production the logs are JSON lines (LOG_FORMAT defaults to json with DEBUG=0); Celery's
    start-up banner is plain text written around logging, which a log shipper cannot parse.
    `--quiet` leaves it out."""
    commands = _celery_commands_in_production()

    assert len(commands) == 4  # compose's worker and beat, the two systemd units
    for words in commands:
        subcommand = next(w for w in words if w in ("worker", "beat"))
        assert "--quiet" in words[: words.index(subcommand)], words


def test_systemd_does_not_restart_a_unit_stopped_by_a_configuration_error():
    """A bad setting exits with 78 (EX_CONFIG, config/startup.py); `Restart=always` alone
    started the unit again every RestartSec, the same error each time, for ever."""
    readme = (REPO_ROOT / "README.md").read_text()
    units = re.findall(r"```ini\n(# /etc/systemd/system/.*?)```", readme, re.DOTALL)

    assert len(units) == 2  # the worker and beat
    for unit in units:
        lines = unit.splitlines()
        assert "Restart=always" in lines, unit
        assert "RestartPreventExitStatus=78" in lines, unit

"""scripts/env_file.py: the env file `make run` reads and the run file it writes, as the
settings (config/settings.py) resolve them: `ENV_FILE=dev.env make run` reads dev.env and
writes dev.env.run, as a `manage.py` in another terminal with the same ENV_FILE reads them."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve(cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """What run.sh gets from the script: each `NAME=value` line, as the shell would read it."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "env_file.py")],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    found = {}
    for line in result.stdout.splitlines():
        [assignment] = shlex.split(line.removeprefix("export "))
        name, value = assignment.split("=", 1)
        found[name] = value
    return found


def test_env_file_names_the_file_read_and_the_run_file_beside_it(tmp_path):
    (tmp_path / ".env").write_text("DEBUG=1\nMETRICS_TOKEN=from-dot-env-token-value\n")
    (tmp_path / "dev.env").write_text("DEBUG=0\nLOG_FORMAT=json\n")

    found = resolve(tmp_path, {"ENV_FILE": "dev.env", "LOG_FORMAT": "text"})

    assert found["ENV_FILE"] == str(tmp_path / "dev.env")
    assert found["RUN_FILE"] == str(tmp_path / "dev.env.run")
    assert found["DEBUG"] == "0"  # from dev.env
    assert "LOG_FORMAT" not in found  # the environment wins
    assert "METRICS_TOKEN" not in found  # .env is not read


def test_without_env_file_it_is_dot_env_and_dot_env_run(tmp_path):
    (tmp_path / ".env").write_text("DEBUG=1\nMETRICS_TOKEN=from-dot-env-token-value\n")

    found = resolve(tmp_path, {})

    assert found["ENV_FILE"] == str(tmp_path / ".env")
    assert found["RUN_FILE"] == str(tmp_path / ".env.run")
    assert found["METRICS_TOKEN"] == "from-dot-env-token-value"


def test_a_missing_env_file_is_written_for_development_where_env_file_says(tmp_path):
    found = resolve(tmp_path, {"ENV_FILE": "local/dev.env"})

    written = (tmp_path / "local" / "dev.env").read_text()
    assert "DEBUG=1" in written and "SECRET_KEY=" in written and "ENCRYPTION_KEYS=k1:" in written
    assert not (tmp_path / ".env").exists()
    assert found["DEBUG"] == "1" and len(found["SECRET_KEY"]) >= 50
    assert found["RUN_FILE"] == str(tmp_path / "local" / "dev.env.run")


def test_an_empty_env_file_reads_and_writes_none(tmp_path):
    found = resolve(tmp_path, {"ENV_FILE": "", "DEBUG": "1"})

    assert found == {"ENV_FILE": "", "RUN_FILE": ""}
    assert list(tmp_path.iterdir()) == []

"""The benchmarks' harness refuses a worker layout the database server cannot hold."""

import os
import subprocess
import sys

import pytest

from bench import harness


@pytest.fixture
def admin_dsn(monkeypatch):
    # The suite's own server (TEST_DATABASE_URL), not whatever the harness defaults to.
    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    monkeypatch.setattr(harness, "ADMIN_DSN", url.rsplit("/", 1)[0] + "/postgres")


def test_a_layout_beyond_the_servers_free_connections_is_refused_with_the_figures(admin_dsn):
    with pytest.raises(SystemExit) as refused:
        harness.connections_check(100_000)

    message = str(refused.value)
    assert "workers x concurrency = 100000 database connections" in message
    assert "max_connections" in message


def test_a_layout_the_server_holds_is_accepted(admin_dsn):
    harness.connections_check(1)


def test_a_runs_processes_read_no_env_file_of_the_clone(tmp_path, monkeypatch):
    """`make run` leaves its ports in .env.run while it runs; a benchmark started beside it
    must not send its workers' calls to that run's sandbox (or read anything else there)."""
    env_file = tmp_path / ".env"
    env_file.write_text("")
    (tmp_path / ".env.run").write_text("INTEGRATOR_US_API_URL=http://127.0.0.1:9/v1\n")
    monkeypatch.setenv("ENV_FILE", str(env_file))
    monkeypatch.delenv("INTEGRATOR_US_API_URL", raising=False)
    sandbox = type("Sandbox", (), {"api_url": "http://127.0.0.1:1/v1", "token": "t"})()
    options = type("Options", (), {"rate": 300.0, "burst": 100})()

    env = harness.run_env(run_id="t", db_name="bench_env_file", sandbox=sandbox, options=options)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.INTEGRATOR_US_API_URL)",
        ],
        cwd=harness.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert printed.stdout.strip() == "https://api.integrator.io/v1"

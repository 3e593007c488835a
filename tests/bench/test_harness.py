"""The benchmarks' harness refuses a worker layout the database server cannot hold."""

import os

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

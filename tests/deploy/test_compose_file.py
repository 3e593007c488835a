"""docker-compose.yml: what its own first lines tell a reader to run works."""

import re
from pathlib import Path

import yaml

COMPOSE = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()


def test_its_header_command_sets_every_variable_the_file_requires():
    """Its header said `SECRET_KEY=... ENCRYPTION_KEYS=... POSTGRES_PASSWORD=... docker compose
    up --build`; run so, compose stopped at once: 'required variable INTEGRATOR_API_TOKEN is
    missing a value: set INTEGRATOR_API_TOKEN'."""
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE))
    header = COMPOSE.split("\n\n", 1)[0]
    command = next(line for line in header.splitlines() if "docker compose up" in line)
    given = set(re.findall(r"([A-Z_]+)=", command))

    assert "SECRET_KEY" in required
    assert not required - given, sorted(required - given)


def test_the_app_processes_get_the_service_public_url():
    """The README's Configuration says SERVICE_PUBLIC_URL (empty by default with DEBUG=0) makes
    the `reconnect_url` of `connection.failed` webhooks absolute. Compose passes only the
    variables it lists, and it did not list this one: exported as the README says, it never
    reached the worker, and the host app got a bare path to send its customer to."""
    services = yaml.safe_load(COMPOSE)["services"]

    for name in ("web", "worker", "beat"):
        assert "SERVICE_PUBLIC_URL" in services[name]["environment"], name

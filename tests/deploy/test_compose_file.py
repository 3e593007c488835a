"""docker-compose.yml: what its own first lines tell a reader to run works."""

import re
from pathlib import Path

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

"""docker-compose.yml: what its own first lines tell a reader to run works."""

import re
from pathlib import Path

import yaml

from sandbox.seed import DEMO_INTEGRATION_ID

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


def test_the_readme_says_which_template_to_load_into_the_compose_stack_with_its_sandbox():
    """The compose file runs the sandbox, seeded with the demo template integration, but the
    README's first steps on a new deployment loaded only 'my-template.yaml': someone trying the
    stack with its sandbox had no template, and no word that the seeded one's file is in the
    image. The README loads that file, the one whose source integration the sandbox seeds."""
    root = Path(__file__).resolve().parents[2]
    production = (root / "README.md").read_text().split("## Production", 1)[1]
    [path] = re.findall(
        r"docker compose run --rm web python manage\.py load_template (\S+)", production
    )
    document = yaml.safe_load((root / path).read_text())

    assert document["source_integration_id"] == DEMO_INTEGRATION_ID

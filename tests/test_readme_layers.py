"""The README's Architecture table names every package the layer contracts name."""

import configparser
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_package_table_names_every_package_of_the_layers():
    """It says 'Each package imports only those listed below it', and left out `rollouts/`:
    a reader could not tell where rollouts stand (beside runs, above provisioning)."""
    contracts = configparser.ConfigParser()
    contracts.read(REPO_ROOT / ".importlinter")
    packages = contracts["importlinter"]["root_packages"].split()
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z_]+)/`", table))

    assert "config" in named
    assert not set(packages) - named, sorted(set(packages) - named)


def test_the_readme_package_table_puts_independent_packages_on_one_row():
    """Under the rule 'Each package imports only those listed below it', `api/` had a row above
    `connect/`'s, which told a reader the API may import the forms: the contract keeps the two
    independent (`api | connect`), and a change made on that reading failed CI."""
    contracts = configparser.ConfigParser()
    contracts.read(REPO_ROOT / ".importlinter")
    layers = contracts["importlinter:contract:layers"]["layers"].split("\n")
    independent = [layer.split(" | ") for layer in layers if " | " in layer]
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = [
        set(re.findall(r"`([a-z_]+)/`", line.split(" | ")[0]))
        for line in table.splitlines()
        if line.startswith("| `")
    ]

    assert independent
    for packages in independent:
        assert any(set(packages) <= row for row in rows), packages

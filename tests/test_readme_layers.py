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

"""The README's shell blocks are run by newcomers as written: every API path they name is one
the API serves."""

import re
from pathlib import Path

import pytest
from django.urls import resolve

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def api_paths_in_shell_blocks() -> list[str]:
    """`$API/...` of each command, and a path a comment elides (`GET …/runs`), which names
    what follows the command's own path."""
    paths = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            paths += re.findall(r"(?:\$API|…)(/[^\s\"'`]*)", line)
    return paths


def served_path(path: str) -> str:
    # $FLOW, $ID, JOB_ID, LINK_ID: any id; the query string is not the path.
    path = path.split("?")[0]
    path = re.sub(r"\$[A-Za-z_]+|\b[A-Z]+_ID\b", "x", path)
    return f"/api/v1{path}"


def test_the_readme_names_api_paths():
    assert len(api_paths_in_shell_blocks()) > 20


@pytest.mark.parametrize("path", api_paths_in_shell_blocks())
def test_each_api_path_of_the_readme_is_served(path):
    """The OAuth part of the tour said `then GET …/runs` after running a flow: read as the
    flow's own path, `$API/tenants/globex/flows/$FLOW/runs`, it answered 404 (no such
    endpoint); a flow's runs are `$API/tenants/globex/runs?flow=$FLOW`."""
    assert resolve(served_path(path)).url_name != "api-unknown", path


def test_the_configuration_table_gives_the_allowed_hosts_the_settings_default_to():
    """It said `localhost` for ALLOWED_HOSTS (and CSRF_TRUSTED_ORIGINS): a reader took
    127.0.0.1 for a host the service refuses, or set it again; the default is
    localhost,127.0.0.1,[::1] (.env.example), and CSRF_TRUSTED_ORIGINS has none."""
    configuration = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    [row] = [line for line in configuration.splitlines() if line.startswith("| `ALLOWED_HOSTS`")]
    default = row.split(" | ")[1]

    assert "`localhost,127.0.0.1,[::1]`" in default, row

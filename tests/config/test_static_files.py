"""The production image serves its pages: static files built as the Dockerfile builds them,
served by gunicorn as the image runs it, with DEBUG=0.

With DEBUG=0, pages link to hashed file names (connect.3f2a….css) that only the manifest
written at build time resolves; a page whose stylesheet has no manifest entry answers 500. The
build runs `scripts/build_static.py`, the script the Dockerfile runs, into a temporary
STATIC_ROOT, and a gunicorn subprocess serves it with DEBUG=0 against the test database.
"""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tenants.connect_links import connect_link_create
from tests.fixtures.factories import TenantFactory
from tests.fixtures.web_server import base_env, dockerfile_command, free_port, gunicorn_options

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = "scripts/build_static.py"
HASHED_STYLESHEET = re.compile(r"\.[0-9a-f]{12}\.css$")


def build_static(static_root: Path) -> None:
    """What the Dockerfile's build step runs, with nothing of this process's environment."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["STATIC_ROOT"] = str(static_root)
    result = subprocess.run(
        [sys.executable, BUILD_SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def stylesheets(html: str) -> list[str]:
    links = re.findall(r"<link\b[^>]*>", html)
    return [
        re.search(r'href="([^"]+)"', link).group(1) for link in links if 'rel="stylesheet"' in link
    ]


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("staticfiles")
    build_static(root)
    return root


@pytest.fixture
def production_server(transactional_db, web_server_factory, static_root):
    """The image's web process: its CMD's gunicorn options, DEBUG=0, the static files built."""
    return web_server_factory(
        env={
            "DEBUG": "0",
            "STATIC_ROOT": str(static_root),
            "INTEGRATOR_API_TOKEN": "test-production-token",
            "ENCRYPTION_KEYS": "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        },
        args=gunicorn_options(dockerfile_command()),
    )


def test_it_builds_the_image_with_the_shared_script():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"python {BUILD_SCRIPT}" in dockerfile
    assert "collectstatic" not in dockerfile


@pytest.mark.parametrize("page", ["/admin/login/", "/api/docs/", "credential form"])
def test_it_serves_pages_and_their_stylesheets_with_debug_off(production_server, page):
    if page == "credential form":
        page = connect_link_create(tenant=TenantFactory(), expires_in=timedelta(minutes=30)).path

    response = production_server.request("GET", page)

    assert response.status_code == 200, production_server.log()
    sheets = stylesheets(response.text)
    assert sheets, response.text
    for sheet in sheets:
        assert HASHED_STYLESHEET.search(sheet), sheet
        static = production_server.request("GET", sheet)
        assert static.status_code == 200, sheet
        assert static.headers["Content-Type"].startswith("text/css")
        # Hashed names never change content: browsers may keep them for good.
        assert "immutable" in static.headers["Cache-Control"]


def test_the_web_process_refuses_to_start_without_built_static_files(tmp_path):
    """Outside the image (systemd, a plain host), a forgotten build would otherwise answer
    500 on every page with a stylesheet; gunicorn stops at once and says what to run."""
    env = {
        **base_env(),
        "DEBUG": "0",
        "STATIC_ROOT": str(tmp_path / "never-built"),
        "DATABASE_URL": "sqlite:///:memory:",
        "INTEGRATOR_API_TOKEN": "test-production-token",
        "ENCRYPTION_KEYS": "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }
    command = [sys.executable, "-m", "gunicorn", *gunicorn_options(dockerfile_command())]
    command += ["--bind", f"127.0.0.1:{free_port()}", "config.wsgi:application"]
    try:
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired as running:
        pytest.fail(f"gunicorn started without static files: {running.stderr}")

    assert result.returncode == 78  # EX_CONFIG: no restarter starts it again
    assert "error: The static files are not built" in result.stderr
    assert "scripts/build_static.py" in result.stderr
    assert "Traceback" not in result.stderr

"""Where the client tests point: the sandbox (default) or a real integrator.io account.

With INTEGRATOR_LIVE_URL and INTEGRATOR_LIVE_TOKEN set, the tests run against that account:
tests that need the sandbox's control plane are skipped, tests that write are skipped unless
INTEGRATOR_LIVE_WRITES=1, and tests marked `live` run (they are skipped against the sandbox).
"""

import os
import socket
from dataclasses import dataclass

import pytest
import requests

from integrator import IntegratorClient
from tests.fixtures.sandbox import SandboxServer

LIVE_URL = os.environ.get("INTEGRATOR_LIVE_URL", "")
LIVE_TOKEN = os.environ.get("INTEGRATOR_LIVE_TOKEN", "")
LIVE_WRITES = os.environ.get("INTEGRATOR_LIVE_WRITES") == "1"
LIVE = bool(LIVE_URL and LIVE_TOKEN)


@dataclass(frozen=True)
class Target:
    api_url: str
    token: str
    live: bool
    writes_allowed: bool
    server: SandboxServer | None


@pytest.fixture(scope="session")
def target(request) -> Target:
    if LIVE:
        return Target(LIVE_URL.rstrip("/"), LIVE_TOKEN, True, LIVE_WRITES, None)
    server = request.getfixturevalue("sandbox")
    return Target(server.api_url, server.token, False, True, server)


@pytest.fixture(autouse=True)
def _live_marker(request, target):
    if request.node.get_closest_marker("live") and not target.live:
        pytest.skip("needs a real account (INTEGRATOR_LIVE_URL, INTEGRATOR_LIVE_TOKEN)")


def make_client(target: Target, **options) -> IntegratorClient:
    options.setdefault("timeout", (2, 5))
    options.setdefault("max_retry_seconds", 10)
    return IntegratorClient(target.api_url, target.token, **options)


@pytest.fixture
def client(target):
    with make_client(target) as api_client:
        yield api_client


@pytest.fixture
def new_client(target):
    """Builds clients with test options (closed after the test): new_client(max_attempts=1)."""
    made = []

    def build(**options) -> IntegratorClient:
        made.append(make_client(target, **options))
        return made[-1]

    yield build
    for api_client in made:
        api_client.close()


@pytest.fixture
def fresh_sandbox(target):
    """Resets the sandbox once per test (None on a live account)."""
    if target.live:
        return None
    target.server.control.reset()
    return target.server.control


@pytest.fixture
def control(fresh_sandbox):
    """The sandbox's control plane, reset for this test. Skips the test on a live account."""
    if fresh_sandbox is None:
        pytest.skip("needs the sandbox's control plane")
    return fresh_sandbox


@pytest.fixture
def writes(target):
    """Marks a test that creates, changes or deletes objects."""
    if not target.writes_allowed:
        pytest.skip("writes to the live account need INTEGRATOR_LIVE_WRITES=1")


@pytest.fixture
def seeded(control):
    """The ids of the sandbox's demo template (sandbox only)."""
    return control.seed()


@pytest.fixture
def seeded_or_live(fresh_sandbox):
    """Seeds the sandbox and returns the demo ids; None on a live account, where read-only
    tests discover ids from lists instead."""
    return None if fresh_sandbox is None else fresh_sandbox.seed()


@pytest.fixture
def setup_api(control, target):
    """A plain requests session for arranging state the client itself does not create."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {target.token}"

    def post(path: str, body: dict) -> dict:
        response = session.post(f"{target.api_url}{path}", json=body, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()

    yield post
    session.close()


def http_connection(name: str, *, base_uri: str = "https://shop.example.com/api", secret: str):
    """An http connection document with a token secret (digest conformance case 6)."""
    return {
        "type": "http",
        "name": name,
        "http": {
            "baseURI": base_uri,
            "mediaType": "json",
            "auth": {"type": "token", "token": {"token": secret, "location": "header"}},
        },
    }


def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

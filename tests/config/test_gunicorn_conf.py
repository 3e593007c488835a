"""gunicorn's logs never carry a connect link's token, and it takes every request line the
API documents, in the deployments as configured.

A credential form's URL is `/connect/<token>/...`, and the token is a bearer secret valid for
days: the access log line of every page view (and the Referer of what the page loads) would
otherwise write it out. The server runs with the exact options of docker-compose.yml's `web`
service and of the Dockerfile's CMD (only the address and the number of workers differ).
"""

import re
import secrets
import subprocess
import time
from urllib.parse import urlencode

import pytest

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from tests.fixtures.web_server import (
    REPO_ROOT,
    WebServer,
    base_env,
    compose_command,
    dockerfile_command,
    gunicorn_options,
)


def wait_for_line(server, pattern: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, server.log(), re.MULTILINE)
        if match:
            return match.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no log line matching {pattern!r}:\n{server.log()}")


@pytest.mark.parametrize(
    "command", [compose_command("web"), dockerfile_command()], ids=["docker-compose", "Dockerfile"]
)
def test_it_redacts_link_tokens_from_the_access_log(db, web_server_factory, command):
    server = web_server_factory(args=gunicorn_options(command))
    token = secrets.token_urlsafe(48)
    form = f"/connect/{token}/"

    assert server.request("GET", form).status_code == 404
    response = server.request(
        "GET",
        f"/connect/{token}/status.json?poll=1",
        headers={"Referer": f"{server.url}{form}", "User-Agent": "test-browser"},
    )
    assert response.status_code == 404

    line = wait_for_line(server, r'^.*"GET /connect/\[REDACTED\]/ HTTP/1\.1" 404 .*$')
    assert "127.0.0.1" in line
    line = wait_for_line(server, r'^.*"GET /connect/\[REDACTED\]/status\.json\?poll=1 HTTP.*$')
    assert f'"{server.url}/connect/[REDACTED]/"' in line
    assert '"test-browser"' in line
    assert token not in server.log()


def test_it_redacts_link_tokens_from_gunicorn_error_lines(tmp_path):
    # gunicorn names the request's URI when a request fails ("Error handling request ...").
    from gunicorn.config import Config

    from config import gunicorn_conf

    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    config.set("logger_class", gunicorn_conf.logger_class)
    log = config.logger_class(config)
    token = secrets.token_urlsafe(48)

    log.error("Error handling request %s", f"/connect/{token}/status.json")

    written = (tmp_path / "error.log").read_text()
    assert "Error handling request /connect/[REDACTED]/status.json" in written
    assert token not in written


def test_it_takes_the_longest_query_string_the_api_documents(transactional_db, web_server_factory):
    """A list's filters at their longest, percent-encoded (4 bytes a character, 12 once
    encoded), and a cursor at its longest: past gunicorn's default request line of 4094
    bytes, which answers with an HTML 414 that the API does not document."""
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    server = web_server_factory(args=gunicorn_options(dockerfile_command()))
    widest = "\U0001f600"
    query = urlencode({"search": widest * 200, "template": widest * 64, "cursor": widest * 200})

    response = server.request(
        "GET", f"/api/v1/tenants?{query}", headers={"Authorization": f"Bearer {key}"}
    )

    assert len(query) > 4094
    assert response.status_code == 400  # the cursor is not one of ours: a JSON answer
    assert list(response.json()["error"]["fields"]) == ["cursor"]


def test_with_json_logs_every_line_gunicorn_writes_is_json(db, web_server_factory):
    """LOG_FORMAT=json (production's default): gunicorn's own lines and its access line are
    JSON lines too, with the request's context as fields, so that a log shipper reading JSON
    lines gets no line it cannot parse."""
    import json

    server = web_server_factory(
        env={"LOG_FORMAT": "json"}, args=gunicorn_options(dockerfile_command())
    )
    token = secrets.token_urlsafe(48)
    response = server.request("GET", f"/connect/{token}/", headers={"X-Request-ID": "json-1"})
    assert response.status_code == 404
    wait_for_line(server, r"^.*GET /connect/\[REDACTED\]/ HTTP/1\.1.{1,2} 404.*$")
    lines = [line for line in server.log().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    [access] = [
        r for r in records if r["logger"] == "gunicorn.access" and r["request_id"] == "json-1"
    ]
    assert '"GET /connect/[REDACTED]/ HTTP/1.1" 404' in access["message"]
    assert "req=" not in access["message"]
    assert any(r["logger"] == "gunicorn.error" for r in records)
    assert token not in server.log()


def test_an_api_key_sent_as_a_basic_user_name_is_not_in_the_access_log(db, web_server_factory):
    """`curl -u KEY:` is a common way to send an API key (Stripe's, for one), and sends it as
    the user name of HTTP Basic authentication. This API refuses Basic, but gunicorn's access
    line has a field for that user name (`%(u)s`), which it decodes from the header: the key
    would be written out in clear, on every such request."""
    import base64

    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    server = web_server_factory(args=gunicorn_options(compose_command("web")))
    basic = base64.b64encode(f"{key}:".encode()).decode()

    response = server.request("GET", "/api/v1/tenants", headers={"Authorization": f"Basic {basic}"})

    assert response.status_code == 401
    line = wait_for_line(server, r'^.*"GET /api/v1/tenants HTTP/1\.1" 401 .*$')
    assert key not in server.log() and key.partition(".")[2] not in server.log()
    assert "127.0.0.1 - - [" in line


@pytest.mark.parametrize(
    ("name", "seconds", "timeout"),
    [
        ("INTEGRATOR_REQUEST_BUDGET_SECONDS", "20", "10"),
        ("INTEGRATOR_REQUEST_BUDGET_SECONDS", "20", "20"),
        ("ADMIN_ACTION_SECONDS", "40", "30"),
    ],
)
def test_it_refuses_to_start_with_a_request_limit_not_under_its_timeout(
    tmp_path, name, seconds, timeout
):
    """gunicorn kills a worker whose request outlasts its --timeout: with
    INTEGRATOR_REQUEST_BUDGET_SECONDS at or over it, a request still waiting on integrator.io
    was killed with no answer before its budget could answer 503 (and an admin action before
    ADMIN_ACTION_SECONDS could name what it did not reach). gunicorn refuses such a pair at
    start, one line and EX_CONFIG, as it refuses any other configuration error."""
    env = {**base_env(), "DATABASE_URL": "sqlite:///:memory:", name: seconds}
    args = [*gunicorn_options(dockerfile_command()), "--timeout", timeout]
    command = WebServer(env=env, log_path=tmp_path / "web.log", args=args).command()
    try:
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired as running:
        pytest.fail(f"gunicorn started with {name} over its timeout: {running.stderr}")

    assert result.returncode == 78, result.stderr  # EX_CONFIG: no restarter starts it again
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    [error] = errors
    assert f"{name} ({seconds} s)" in error, error
    assert f"gunicorn's --timeout ({timeout} s)" in error, error
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("timeout", ["25", "0"], ids=["over-the-budget", "no-timeout"])
def test_it_starts_with_a_request_budget_under_its_timeout(db, web_server_factory, timeout):
    """A timeout over the budget, or none at all (gunicorn's 0), is served."""
    server = web_server_factory(
        env={"INTEGRATOR_REQUEST_BUDGET_SECONDS": "20"},
        args=[*gunicorn_options(dockerfile_command()), "--timeout", timeout],
    )
    assert server.request("GET", "/healthz").status_code == 200
    assert "error:" not in server.log()

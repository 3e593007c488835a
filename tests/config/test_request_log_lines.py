"""Every line written while a request is handled carries its request id, the line that logs the
request itself included, under both servers the service runs on: gunicorn as deployed
(docker-compose.yml's `web`) and `manage.py runserver` as `make run` starts it.

The id is the one the response echoes in `X-Request-ID`, so that a user's report ("it failed,
request 3f2a…") leads to every line of that request.
"""

import re
import time

import pytest

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from tenants.connect_links import connect_link_create
from tests.fixtures.factories import TenantFactory
from tests.fixtures.web_server import compose_command, gunicorn_options

pytestmark = pytest.mark.django_db(transaction=True)


def lines_with(server, text: str, *, timeout: float = 10.0) -> list[str]:
    """The server's log lines that contain `text`, once there is at least one."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in server.log().splitlines() if text in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def request_line(server, path: str, rid: str) -> str:
    lines = [line for line in lines_with(server, f"{path} HTTP/1.1") if path in line]
    assert lines, f"no line logs the request {path}:\n{server.log()}"
    return lines[-1]


@pytest.fixture
def world():
    tenant = TenantFactory(external_id="acme-logs")
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    return {
        "tenant": tenant,
        "auth": {"Authorization": f"Api-Key {key}"},
        "link": connect_link_create(tenant=tenant).path,
    }


@pytest.mark.parametrize("server_kind", ["gunicorn", "runserver"])
def test_it_puts_the_request_id_on_every_line_of_a_request(web_server_factory, world, server_kind):
    if server_kind == "gunicorn":
        server = web_server_factory(args=gunicorn_options(compose_command("web")))
    else:
        server = web_server_factory(runserver=True)

    answers = {
        "static": server.request("GET", "/static/connect/connect.css"),
        "api": server.request("GET", "/api/v1/tenants/acme-logs/", headers=world["auth"]),
        "missing": server.request("GET", "/connect/not-a-link/"),
    }
    assert answers["static"].status_code == 200
    assert answers["api"].status_code == 200
    assert answers["missing"].status_code == 404

    for name, path in [
        ("static", "/static/connect/connect.css"),
        ("api", "/api/v1/tenants/acme-logs/"),
        ("missing", "/connect/[REDACTED]/"),
    ]:
        rid = answers[name].headers["X-Request-ID"]
        line = request_line(server, path, rid)
        assert re.search(rf"\breq={re.escape(rid)}\b", line), line
    # Django's own line about the 404, written after the view's middleware returned.
    rid = answers["missing"].headers["X-Request-ID"]
    [not_found] = lines_with(server, "Not Found: /connect/[REDACTED]/")
    assert f"req={rid}" in not_found, not_found
    assert "not-a-link" not in server.log()


def test_it_names_the_tenant_by_its_external_id_on_api_and_form_lines(web_server_factory, world):
    server = web_server_factory(args=gunicorn_options(compose_command("web")))

    api = server.request("GET", "/api/v1/tenants/acme-logs/health", headers=world["auth"])
    form = server.request("GET", world["link"])
    # A submission refused for its form token: the view's own warning line.
    refused = server.request("POST", world["link"], data={"slot": "shop"})

    assert (api.status_code, form.status_code, refused.status_code) == (200, 200, 403)
    for answer in (api, form, refused):
        rid = answer.headers["X-Request-ID"]
        lines = lines_with(server, f"req={rid}")
        assert lines and all("tenant=acme-logs" in line for line in lines), lines
    [warning] = lines_with(server, "connect submission refused")
    assert "tenant=acme-logs" in warning
    assert f"tenant={world['tenant'].pk} " not in server.log()


def test_runservers_json_line_about_a_request_carries_no_socket(web_server_factory, world):
    """runserver logs each request (`django.server`) with two extras of its own: `request`, the
    connection's socket object, and `server_time`, the time again in another format. As JSON
    fields they were the socket's repr (its file descriptor and both addresses) and a second
    clock on every line, noise to a reader and to a log shipper's index."""
    import json

    server = web_server_factory(runserver=True, env={"LOG_FORMAT": "json"})
    answer = server.request("GET", "/healthz")
    assert answer.status_code == 200

    rid = answer.headers["X-Request-ID"]
    [line] = [line for line in lines_with(server, rid) if "/healthz HTTP/1.1" in line]
    record = json.loads(line)
    assert record["logger"] == "django.server"
    assert record["status_code"] == 200
    assert "request" not in record and "server_time" not in record, record
    assert "socket" not in server.log()

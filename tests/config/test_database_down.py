"""PostgreSQL unreachable: every page says to retry later (503), and the log gets one warning
line per request, not a 500 with a traceback.

The service runs in a gunicorn subprocess whose DATABASE_URL points at a port where nothing
listens, as when PostgreSQL is down or restarting.
"""

import re
from collections import Counter
from datetime import timedelta

import pytest

from tenants.connect_links import connect_link_create
from tests.fixtures.factories import TenantFactory
from tests.fixtures.web_server import free_port

WELL_FORMED_KEY = "Api-Key abcdefgh.abcdefghabcdefghabcdefghabcdefgh"


@pytest.fixture
def server(web_server_factory):
    return web_server_factory(
        env={"DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/provisioning"}
    )


def assert_api_unavailable(response):
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["message"]
    assert int(response.headers["Retry-After"]) >= 1


def assert_page_unavailable(response):
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert "try again" in response.text
    assert int(response.headers["Retry-After"]) >= 1


def test_it_answers_the_api_with_503_and_retry_after(server):
    # Authentication is the first thing that needs the database (the API key's row).
    assert_api_unavailable(
        server.request("GET", "/api/v1/tenants/", headers={"Authorization": WELL_FORMED_KEY})
    )
    assert_api_unavailable(
        server.request(
            "POST",
            "/api/v1/tenants/",
            json={"external_id": "acme", "name": "Acme", "template": "shop-to-erp"},
            headers={"Authorization": WELL_FORMED_KEY, "Idempotency-Key": "create-acme"},
        )
    )
    assert_api_unavailable(
        server.request("GET", "/api/v1/tenants/acme/", headers={"Authorization": WELL_FORMED_KEY})
    )


def test_it_answers_the_credential_form_with_a_page_that_says_to_try_again(db, server):
    path = connect_link_create(tenant=TenantFactory(), expires_in=timedelta(minutes=30)).path

    response = server.request("GET", path)

    assert_page_unavailable(response)
    # Still a connect page: never framed by a site that the tenant did not allow.
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert path.split("/")[2] not in response.text


def test_it_answers_the_admin_with_a_page_that_says_to_try_again(server):
    # A session cookie makes the admin look its user up.
    response = server.request("GET", "/admin/", cookies={"sessionid": "x" * 32})
    assert_page_unavailable(response)


def test_it_logs_one_warning_line_per_request_and_no_traceback(db, server):
    path = connect_link_create(tenant=TenantFactory(), expires_in=timedelta(minutes=30)).path
    offset = server.log_size()
    ids = []
    for _ in range(3):
        for method, target, headers in [
            ("GET", "/api/v1/tenants/", {"Authorization": WELL_FORMED_KEY}),
            ("GET", path, {}),
            ("GET", "/admin/", {"Cookie": "sessionid=" + "x" * 32}),
        ]:
            response = server.request(method, target, headers=headers)
            assert response.status_code == 503
            ids.append(response.headers["X-Request-ID"])

    log = server.log_since(offset)
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if line.strip()]
    assert all(" WARNING " in line for line in lines), log
    per_request = Counter(re.search(r"req=(\S+)", line).group(1) for line in lines)
    assert set(per_request) <= set(ids)
    assert max(per_request.values()) == 1
    assert path.split("/")[2] not in log

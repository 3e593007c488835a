"""No secret or token made while the service works is readable anywhere it keeps or writes
things: its logs, Redis, a dump of its database, or the admin's pages.

One whole deployment (tests/fixtures/stack.py) does what a host app and an operator do: an
API key, webhook endpoints (their signing secrets are shown once, to a request sent with an
Idempotency-Key, whose response is stored for replays), a connect link opened in a browser,
credentials handed over for both slots, provisioning to the end. Every secret of that session
is then looked for, in clear, in every place.
"""

import subprocess

import pytest
import redis
import requests
from django.conf import settings

from tests.fixtures.stack import ServiceStack

ADMIN_PASSWORD = "an-operators-own-password-7f3k"


@pytest.fixture(scope="module")
def stack(sandbox, tmp_path_factory):
    sandbox.control.reset()
    sandbox.control.seed()
    deployment = ServiceStack(
        "secrets", sandbox=sandbox, work_dir=tmp_path_factory.mktemp("secrets")
    ).start()
    yield deployment
    deployment.stop()


def admin_session(stack) -> requests.Session:
    create = (
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_superuser('ops', 'ops@example.com', "
        f"'{ADMIN_PASSWORD}')"
    )
    stack.manage("shell", "-c", create)
    session = requests.Session()
    login = f"{stack.base_url}/admin/login/"
    session.get(login, timeout=10)
    answer = session.post(
        login,
        data={
            "username": "ops",
            "password": ADMIN_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=10,
    )
    assert answer.ok and "Log out" in answer.text
    return session


def redis_dump(stack) -> str:
    """Every key and value this deployment has in Redis, as text."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    parts = []
    for key in client.scan_iter(f"{settings.REDIS_KEY_PREFIX}{stack.identity}:*"):
        kind = client.type(key).decode()
        value = {
            "string": lambda k: client.get(k),
            "hash": lambda k: client.hgetall(k),
            "list": lambda k: client.lrange(k, 0, -1),
            "set": lambda k: client.smembers(k),
            "zset": lambda k: client.zrange(k, 0, -1),
        }.get(kind, lambda k: b"")(key)
        parts.append(f"{key!r} {value!r}")
    return "\n".join(parts)


def test_no_secret_is_readable_in_logs_redis_the_database_or_the_admin(stack, sandbox):
    secrets = {
        "API key": stack.api_key,
        "integrator.io token": sandbox.token,
        "admin password": ADMIN_PASSWORD,
        **{f"{app} key": key for app, key in sandbox.demo_keys.items()},
    }
    endpoint = stack.api(
        "POST",
        "/api/v1/webhooks/endpoints/",
        json={"url": "http://127.0.0.1:9/hooks"},
        headers={"Idempotency-Key": "endpoint-1"},
    ).json()
    secrets["webhook secret"] = endpoint["secret"]
    rotated = stack.api(
        "POST",
        f"/api/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret",
        headers={"Idempotency-Key": "rotate-1"},
    ).json()
    secrets["rotated webhook secret"] = rotated["secret"]

    created = stack.api(
        "POST",
        "/api/v1/tenants/",
        json={"external_id": "initech", "name": "Initech", "template": "shop-to-erp"},
    )
    assert created.status_code == 201, created.text
    link = stack.api(
        "POST",
        "/api/v1/tenants/initech/connect-links",
        json={},
        headers={"Idempotency-Key": "link-1"},
    ).json()
    secrets["connect link token"] = link["token"]
    page = requests.get(link["url"], timeout=10, headers={"Referer": link["url"]})
    assert page.status_code == 200
    for slot in ("shop", "erp"):
        fields = {"base_url": sandbox.demo_url(slot), "api_key": sandbox.demo_keys[slot]}
        put = stack.api(
            "PUT",
            f"/api/v1/tenants/initech/connections/{slot}",
            json={"fields": fields},
            headers={"Idempotency-Key": f"put-{slot}"},
        )
        assert put.status_code == 200, put.text
    stack.wait_for_status("initech", "active")

    admin = admin_session(stack)
    admin_html = "\n".join(
        admin.get(f"{stack.base_url}{path}", timeout=10).text
        for path in (
            "/admin/tenants/tenant/",
            "/admin/tenants/tenant/1/change/",
            "/admin/tenants/connectlink/",
            "/admin/provisioning/job/",
            "/admin/webhooks/webhookendpoint/",
            f"/admin/webhooks/webhookendpoint/{endpoint['id']}/change/",
            "/admin/webhooks/webhookdelivery/",
            "/admin/rest_framework_api_key/apikey/",
        )
    )
    database = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--data-only", stack.db_name],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    places = {
        "web log": stack.web_log_path.read_text(),
        "worker log": stack.worker.log_path.read_text(),
        "Redis": redis_dump(stack),
        "database dump": database,
        "admin pages": admin_html,
    }

    assert "/connect/[REDACTED]" in places["web log"], "the link was opened and logged"
    assert "idempotency" in database.lower(), "the stored responses are in the dump"
    found = [
        f"{name} in {place}"
        for place, text in places.items()
        for name, value in secrets.items()
        if value in text
    ]
    assert found == []

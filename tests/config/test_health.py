"""Liveness and readiness probes."""

import socket

import pytest


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def integrator_is_sandbox(settings, sandbox):
    settings.INTEGRATOR_API_URL = sandbox.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox.token


def test_it_answers_healthz_without_touching_dependencies(client):
    # No `db` fixture: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_the_probes_answer_head_as_monitors_send_it(db, client, integrator_is_sandbox):
    """Uptime monitors and some load balancers check with HEAD (UptimeRobot's default): both
    probes answered it 405 Method Not Allowed, which such a monitor reads as the service
    down. HEAD answers what GET does, without the body."""
    assert client.head("/healthz").status_code == 200
    assert client.head("/readyz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_it_is_ready_when_every_dependency_answers(db, client, integrator_is_sandbox):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "integrator_api": "ok",
    }


def test_it_is_not_ready_when_redis_is_down(
    db, client, settings, integrator_is_sandbox, closed_port
):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["integrator_api"]["status"] == "ok"


def test_it_is_ready_but_degraded_when_the_integrator_api_is_unreachable(
    db, client, settings, closed_port
):
    # Every pod would fail alike: out of rotation, they would only add an outage of our own.
    settings.INTEGRATOR_API_URL = f"http://127.0.0.1:{closed_port}/v1"
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["integrator_api"]["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "ok"


def test_it_is_not_ready_when_the_integrator_token_is_rejected(
    db, client, settings, integrator_is_sandbox
):
    settings.INTEGRATOR_API_TOKEN = "not-a-valid-token"
    response = client.get("/readyz")
    check = response.json()["checks"]["integrator_api"]
    assert response.status_code == 503
    assert check == {"status": "error", "error": check["error"], "ms": check["ms"]}
    assert "401" in check["error"]
    assert "not-a-valid-token" not in response.content.decode()


def test_it_echoes_a_plain_request_id_and_replaces_a_hostile_one(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="x\nINFO fake log line")["X-Request-ID"]
    assert hostile != "x\nINFO fake log line"
    assert len(hostile) == 32


def test_another_accounts_refused_token_leaves_the_service_ready(
    db, client, integrator_is_sandbox, sandbox
):
    """A token typed into the admin for a second account that integrator.io refuses made
    /readyz answer 503 on every pod: a load balancer took the whole service out of rotation,
    the default account's tenants, the customer pages and the admin page where the token is
    corrected with it. That account is degraded, named with its 401; the service stays ready."""
    from core.accounts import integrator_account_save

    integrator_account_save(
        key="second", name="Second", region="us", token="refused-token", api_url=sandbox.api_url
    )
    response = client.get("/readyz")
    body = response.json()
    check = body["checks"]["integrator_api"]
    assert response.status_code == 200, body
    assert body["status"] == "degraded"
    assert check["status"] == "degraded"
    assert "'second'" in check["error"] and "401" in check["error"]
    assert "default account" not in check["error"]
    assert "refused-token" not in response.content.decode()


def test_another_accounts_failure_other_than_its_token_is_degraded(
    db, client, integrator_is_sandbox, closed_port
):
    from core.accounts import integrator_account_save

    integrator_account_save(
        key="far",
        name="Far",
        region="us",
        token="some-token",
        api_url=f"http://127.0.0.1:{closed_port}/v1",
    )
    response = client.get("/readyz")
    check = response.json()["checks"]["integrator_api"]
    assert response.status_code == 200
    assert check["status"] == "degraded"
    assert "'far'" in check["error"]


def test_the_accounts_list_and_admin_say_what_readyz_learnt_of_each_token(
    db,
    client,
    api,
    viewer_admin,
    integrator_is_sandbox,
    sandbox,
    settings,
    django_capture_on_commit_callbacks,
):
    """An account whose token integrator.io refused showed `token: "set"` and a closed
    breaker in GET /api/v1/integrator/accounts and the admin: only /readyz said why its
    tenants' calls failed. They show what the last check learnt, with its time, and make no
    call of their own."""
    from core.accounts import integrator_account_save

    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}token-checks:"  # keys of its own
    integrator_account_save(
        key="second", name="Second", region="us", token="refused-token", api_url=sandbox.api_url
    )
    before = {row["key"]: row for row in api.get("/api/v1/integrator/accounts").json()["results"]}
    assert {key: row["token_check"] for key, row in before.items()} == {
        key: {"result": None, "checked_at": None} for key in before
    }

    assert client.get("/readyz").json()["checks"]["integrator_api"]["status"] == "degraded"

    listed = {row["key"]: row for row in api.get("/api/v1/integrator/accounts").json()["results"]}
    second = listed.pop("second")
    (default,) = listed.values()
    assert (second["token"], second["state"]) == ("set", "closed")
    assert second["token_check"]["result"] == "refused"
    assert second["token_check"]["checked_at"]
    assert default["token_check"]["result"] == "accepted"
    changelist = viewer_admin.get("/admin/core/integratoraccount/").content.decode()
    assert "refused by integrator.io" in changelist
    assert "accepted by integrator.io" in changelist
    page = viewer_admin.get(
        f"/admin/core/integratoraccount/{_account_pk('second')}/change/"
    ).content.decode()
    assert "refused by integrator.io" in page

    # A new token is not the one refused: the account says so until it is checked again.
    with django_capture_on_commit_callbacks(execute=True):
        integrator_account_save(
            key="second", name="Second", region="us", token=sandbox.token, api_url=sandbox.api_url
        )
    listed = {row["key"]: row for row in api.get("/api/v1/integrator/accounts").json()["results"]}
    assert listed["second"]["token_check"] == {"result": None, "checked_at": None}
    assert client.get("/readyz").status_code == 200
    listed = {row["key"]: row for row in api.get("/api/v1/integrator/accounts").json()["results"]}
    assert listed["second"]["token_check"]["result"] == "accepted"


def _account_pk(key: str) -> int:
    from core.models import IntegratorAccount

    return IntegratorAccount.objects.get(key=key).pk


PUBLIC_HOST_ONLY = ["provisioning.example.com"]
METRICS_TEST_TOKEN = "probe-host-metrics-token-0123456789"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_the_probes_answer_a_host_that_names_the_service_by_its_address(
    db, client, settings, integrator_is_sandbox, path
):
    """The README's production setup sets ALLOWED_HOSTS to the public name alone; docker
    compose's healthcheck (http://127.0.0.1:8000/healthz), a kubelet's probe (the pod's
    address) and Prometheus (web:8000, docs/operations.md) name the service by its address.
    Django's host check answered each of them 400 Bad Request: the web container was never
    healthy and /metrics never scraped. The probes answer whatever the Host header says."""
    settings.ALLOWED_HOSTS = PUBLIC_HOST_ONLY
    settings.METRICS_TOKEN = METRICS_TEST_TOKEN

    response = client.get(
        path, HTTP_HOST="127.0.0.1:8000", HTTP_AUTHORIZATION=f"Bearer {METRICS_TEST_TOKEN}"
    )

    assert response.status_code == 200, response.content[:300]
    assert response["X-Request-ID"]


@pytest.mark.parametrize("path", ["/healthz/x", "/api/v1", "/admin/login/", "/connect/x/"])
def test_every_other_path_still_refuses_a_host_not_allowed(db, client, settings, path):
    settings.ALLOWED_HOSTS = PUBLIC_HOST_ONLY

    assert client.get(path, HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_readyz_asks_integrator_io_at_most_once_per_interval_and_token(
    db, client, settings, sandbox_clean
):
    """/readyz answers whoever reaches the service, unauthenticated, and each request called
    integrator.io's /tokenInfo for every account, outside the rate limiter: a probe every few
    seconds per pod, or anyone repeating the request, spent the account's API budget that
    provisioning and the customers' forms share. What integrator.io answered is reused for
    READYZ_INTEGRATOR_CHECK_SECONDS; a new token is asked at once."""
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    settings.READYZ_INTEGRATOR_CHECK_SECONDS = 60

    def token_info_calls() -> int:
        return sum(1 for r in sandbox_clean.control.requests_log() if r["path"] == "/v1/tokenInfo")

    sandbox_clean.control.clear_requests_log()
    for _ in range(5):
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"]["integrator_api"]["status"] == "ok"
    assert token_info_calls() == 1

    settings.INTEGRATOR_API_TOKEN = "a-token-not-asked-yet"
    assert client.get("/readyz").status_code == 503
    assert client.get("/readyz").status_code == 503
    assert token_info_calls() == 2

    settings.READYZ_INTEGRATOR_CHECK_SECONDS = 0  # every request asks
    client.get("/readyz")
    client.get("/readyz")
    assert token_info_calls() == 4

"""Many integrator.io accounts and regions, end to end: a second account in the EU region of the
sandbox (its own token, its own objects), tenants on each, provisioned by the real worker;
one account's outage or 429 never holds the other's calls."""

import io
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from django.core.management import call_command
from prometheus_client import REGISTRY

from core.account_token_checks import account_token_check
from core.accounts import (
    account_api_url,
    account_token,
    integrator_account_default,
    integrator_account_save,
)
from core.errors import IntegratorRateLimited, IntegratorUnavailable
from core.integrator_client import build_integrator_client, rate_limit_redis
from core.integrator_outage import integrator_breaker, integrator_send_pause
from integrator.errors import CircuitOpenError, IntegratorError
from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from tenants.models import Tenant, TenantStatus
from tenants.services import tenant_connection_submit, tenant_create
from tenants.services.template_snapshots import template_snapshot_take
from tests.fixtures.factories import IntegrationTemplateFactory
from tests.fixtures.world import integrator_calm


@pytest.fixture
def eu(world, settings):
    """An account of its own in the sandbox's EU region, seeded with the demo template, and
    its record here; a template published on it."""
    token = f"eu-{uuid.uuid4().hex}"
    world.sandbox.control.add_account(token, region="eu")
    seed = world.sandbox.control.seed(account=token)
    settings.INTEGRATOR_EU_API_URL = world.sandbox.eu_api_url
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=token)
    template = IntegrationTemplateFactory(
        key="shop-to-erp-eu",
        name="Shop to ERP (EU)",
        source_integration_id=seed["integrationId"],
        account=account,
    )
    yield account, template, token
    integrator_calm()


def _ready_tenant(world, template, external_id):
    """A tenant registered by the service (placed by its template) whose connections are
    saved through the service's own client for its account."""
    tenant, _ = tenant_create(external_id=external_id, name=external_id, template=template)
    for slot in template.slots:
        result = tenant_connection_submit(
            tenant=tenant,
            slot_key=slot["key"],
            values={
                "base_url": world.sandbox.demo_url(slot["key"]),
                "api_key": world.sandbox.demo_keys[slot["key"]],
            },
        )
        assert result.ok, result.message
    tenant.refresh_from_db()
    return tenant


def _get(url: str, token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_tenants_of_two_accounts_are_built_each_in_its_own(world, eu):
    eu_account, eu_template, eu_token = eu
    us_tenant = _ready_tenant(world, world.template, "acme-us")
    eu_tenant = _ready_tenant(world, eu_template, "acme-eu")
    assert us_tenant.account == integrator_account_default()
    assert eu_tenant.account == eu_account

    jobs = [
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
        for tenant in (us_tenant, eu_tenant)
    ]
    for job in world.wait(jobs, timeout=60):
        assert job.status == JobStatus.SUCCEEDED, job.error_message
    us_tenant.refresh_from_db()
    eu_tenant.refresh_from_db()
    assert us_tenant.status == eu_tenant.status == TenantStatus.ACTIVE

    control = world.sandbox.control
    us_objects = control.objects()["objects"]
    eu_objects = control.objects(account=eu_token)["objects"]
    us_integrations = {i["_id"] for i in us_objects["integrations"]}
    eu_integrations = {i["_id"] for i in eu_objects["integrations"]}
    assert us_tenant.integration_id in us_integrations - eu_integrations
    assert eu_tenant.integration_id in eu_integrations - us_integrations
    for tenant, objects in ((us_tenant, eu_objects), (eu_tenant, us_objects)):
        others = {c["_id"] for c in objects["connections"]}
        assert not others & set(tenant.connections.values_list("connection_id", flat=True))
        assert all(f["_integrationId"] != tenant.integration_id for f in objects["flows"])

    # Each token sees only its own account, and works only in its own region.
    sandbox = world.sandbox
    eu_url = f"{sandbox.eu_api_url}/integrations/{eu_tenant.integration_id}"
    assert _get(eu_url, eu_token).status_code == 200
    assert _get(eu_url, sandbox.token).status_code == 401  # a US token in the EU
    us_url = f"{sandbox.api_url}/integrations/{us_tenant.integration_id}"
    assert _get(us_url, eu_token).status_code == 401  # an EU token in the US
    eu_id_in_us = f"{sandbox.api_url}/integrations/{eu_tenant.integration_id}"
    assert _get(eu_id_in_us, sandbox.token).status_code == 404


def test_one_accounts_outage_leaves_the_others_breaker_closed(world, eu, settings):
    eu_account, _, _ = eu
    settings.INTEGRATOR_BREAKER_FAILURES = 2
    world.sandbox.control.inject_fault("error", path="/eu/v1/*", status=503)
    connection = rate_limit_redis()

    with build_integrator_client(account=eu_account, interactive=True) as client:
        for _ in range(3):
            with pytest.raises(IntegratorError):
                client.get_token_info()
        with pytest.raises(CircuitOpenError):
            client.get_token_info()

    default = integrator_account_default()
    assert integrator_breaker(connection, eu_account).snapshot()[0].state == "open"
    assert integrator_breaker(connection, default).snapshot()[0].state == "closed"
    with build_integrator_client(account=default, interactive=True) as client:
        assert client.get_token_info()


def test_a_refused_account_token_names_that_account_to_the_caller(world, eu):
    """With several accounts, "fix the integrator.io account's token" did not say which one,
    nor how (the admin or the command for a stored token, the environment for the default)."""
    _, eu_template, eu_token = eu
    tenant, _ = tenant_create(external_id="acme-eu", name="Acme", template=eu_template)
    integrator_account_save(key="eu-main", name="EU", region="eu", token="revoked-token-value")
    tenant.refresh_from_db()

    with pytest.raises(IntegratorUnavailable) as refused:
        tenant_connection_submit(
            tenant=tenant,
            slot_key="shop",
            values={"base_url": world.sandbox.demo_url("shop"), "api_key": "k"},
        )

    assert refused.value.code == "integrator_token_refused"
    message = refused.value.message
    assert "integrator.io account 'eu-main'" in message
    assert "manage.py integrator_account eu-main" in message
    assert "revoked-token-value" not in message and eu_token not in message
    # The accounts list and the admin say so from then on, without a call of their own.
    check = account_token_check(rate_limit_redis(), account_key="eu-main")
    assert check.result == "refused" and check.checked_at is not None


def test_one_accounts_outage_names_that_account_to_the_caller(world, eu):
    """While the other accounts answer, "integrator.io is not answering" left the host's
    developer (and the operator they call) to guess which account was down."""
    _, eu_template, _ = eu
    tenant, _ = tenant_create(external_id="acme-eu", name="Acme", template=eu_template)
    world.sandbox.control.inject_fault("error", path="/eu/v1/*", status=503)

    with pytest.raises(IntegratorUnavailable) as unavailable:
        tenant_connection_submit(
            tenant=tenant,
            slot_key="shop",
            values={"base_url": world.sandbox.demo_url("shop"), "api_key": "k"},
        )

    assert unavailable.value.code == "integrator_unavailable"
    assert "integrator.io account 'eu-main' is not answering" in unavailable.value.message


def test_one_accounts_rate_limit_names_that_account_to_the_caller(world, eu):
    """An account's own rate (set in the admin) or its 429 answered "integrator.io is limiting
    this service's calls", which left the host's developer and the operator to guess which of
    the accounts was at its limit, while the others' calls went through."""
    _, eu_template, _ = eu
    tenant, _ = tenant_create(external_id="acme-eu", name="Acme", template=eu_template)
    world.sandbox.control.inject_fault("rate_limit", path="/eu/v1/*", retry_after=30)

    with pytest.raises(IntegratorRateLimited) as limited:
        tenant_connection_submit(
            tenant=tenant,
            slot_key="shop",
            values={"base_url": world.sandbox.demo_url("shop"), "api_key": "k"},
        )

    assert limited.value.code == "rate_limited"
    assert "calls to integrator.io account 'eu-main'" in limited.value.message


def test_one_accounts_retry_after_pauses_only_that_account(world, eu):
    eu_account, _, _ = eu
    world.sandbox.control.inject_fault("rate_limit", path="/eu/v1/*", retry_after=30, times=1)
    connection = rate_limit_redis()

    with (
        build_integrator_client(account=eu_account, interactive=True) as client,
        pytest.raises(IntegratorError),
    ):
        client.get_token_info()

    assert integrator_send_pause(connection, token=account_token(eu_account)).remaining() > 20
    default = integrator_account_default()
    assert integrator_send_pause(connection, token=account_token(default)).remaining() == 0
    with build_integrator_client(account=default, interactive=True) as client:
        assert client.get_token_info()


def test_the_status_shows_each_accounts_breaker_and_never_a_token(world, eu, live_api, settings):
    eu_account, _, eu_token = eu
    settings.INTEGRATOR_BREAKER_FAILURES = 1
    world.sandbox.control.inject_fault("error", path="/eu/v1/*", status=503)
    with (
        build_integrator_client(account=eu_account, interactive=True) as client,
        pytest.raises(IntegratorError),
    ):
        client.get_token_info()

    answer = live_api.get("/api/v1/integrator/status")

    assert answer.status_code == 200
    body = answer.json()
    states = {a["key"]: (a["region"], a["state"], a["default"]) for a in body["accounts"]}
    assert states == {"default": ("us", "closed", True), "eu-main": ("eu", "open", False)}
    assert body["state"] == "open"  # the default is well: the worst other account shows
    listed = live_api.get("/api/v1/integrator/accounts")
    assert listed.status_code == 200
    assert [
        (a["key"], a["name"], a["region"], a["state"], a["token"]) for a in listed.json()["results"]
    ] == [
        ("default", "Default account", "us", "closed", "environment"),
        ("eu-main", "EU", "eu", "open", "set"),
    ]
    ready = live_api.get("/readyz")
    assert ready.status_code == 200
    assert {a["key"]: a["state"] for a in ready.json()["integrator_accounts"]} == {
        "default": "closed",
        "eu-main": "open",
    }
    for text in (answer.content.decode(), ready.content.decode(), listed.content.decode()):
        assert eu_token not in text
        assert eu_account.token_encrypted[:24] not in text


def test_the_region_is_chosen_when_the_tenant_is_registered(world, eu, live_api):
    eu_account, eu_template, _ = eu

    refused = live_api.post(
        "/api/v1/tenants",
        {"external_id": "wrong", "name": "W", "template": "shop-to-erp", "region": "eu"},
        format="json",
    )
    placed = live_api.post(
        "/api/v1/tenants",
        {"external_id": "globex", "name": "G", "template": eu_template.key, "region": "eu"},
        format="json",
    )
    unknown = live_api.post(
        "/api/v1/tenants",
        {"external_id": "x", "name": "X", "template": eu_template.key, "region": "mars"},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "region_unavailable"
    assert "'default'" in refused.json()["error"]["message"]
    assert not Tenant.objects.filter(external_id="wrong").exists()
    assert placed.status_code == 201, placed.content
    assert Tenant.objects.get(external_id="globex").account == eu_account
    assert unknown.status_code == 400
    assert "region" in unknown.json()["error"]["fields"]


def test_each_template_says_which_account_and_region_it_places_tenants_on(world, eu, live_api):
    """A host choosing the template for a customer's region could not see any template's
    region: the template list said nothing of its account."""
    _, eu_template, eu_token = eu

    listed = live_api.get("/api/v1/templates")
    one = live_api.get(f"/api/v1/templates/{eu_template.key}")

    assert listed.status_code == one.status_code == 200
    regions = {t["key"]: t["integrator_account"] for t in listed.json()["results"]}
    assert regions[eu_template.key] == {"key": "eu-main", "region": "eu"}
    assert regions[world.template.key] == {"key": "default", "region": "us"}
    assert one.json()["integrator_account"] == {"key": "eu-main", "region": "eu"}
    assert eu_token not in listed.content.decode()


def test_registering_a_tenant_again_on_another_accounts_template_says_how_to_move_it(
    world, eu, live_api
):
    """A host moving a customer to the EU re-registered it with the EU template and was told
    'Use PATCH to change it', which answers that `template` is not allowed: a tenant's
    template, and so its account, never change. It is told how to move it instead."""
    _, eu_template, _ = eu
    body = {"external_id": "globex", "name": "Globex", "template": world.template.key}
    assert live_api.post("/api/v1/tenants", body, format="json").status_code == 201

    moved = live_api.post(
        "/api/v1/tenants", {**body, "template": eu_template.key, "region": "eu"}, format="json"
    )

    assert moved.status_code == 409
    error = moved.json()["error"]
    assert error["code"] == "tenant_exists"
    assert "PATCH" not in error["message"]
    assert "'default'" in error["message"] and "'eu-main'" in error["message"]
    assert "DELETE /api/v1/tenants/globex" in error["message"]
    assert list(error["fields"]) == ["template"]
    assert f"{world.template.key!r}" in error["fields"]["template"][0]
    assert Tenant.objects.get(external_id="globex").template == world.template

    # A name still differs as a value PATCH changes, and says so.
    renamed = live_api.post("/api/v1/tenants", {**body, "name": "Globex Inc"}, format="json")
    assert renamed.status_code == 409
    assert "PATCH" in renamed.json()["error"]["message"]


def test_an_accounts_calls_are_counted_by_endpoint_group_whatever_its_api_path(world, eu):
    """The endpoint group was read against the default account's API path (`/v1`): every call
    of an account whose API lives under another path (the sandbox's EU region, `/eu/v1`, or an
    account's own URL) was counted as `other`, on the dashboard and in the alerts."""
    eu_account, _, _ = eu

    def token_info_calls() -> float:
        labels = {
            "account": eu_account.key,
            "group": "tokenInfo",
            "method": "GET",
            "status_class": "2xx",
            "lane": "jobs",
        }
        return REGISTRY.get_sample_value("eis_integrator_calls_total", labels) or 0.0

    before = token_info_calls()
    with build_integrator_client(account=eu_account, lane="jobs") as client:
        client.get_token_info()

    assert urlsplit(account_api_url(eu_account)).path == "/eu/v1"
    assert token_info_calls() == before + 1


def test_a_connection_check_refused_for_the_accounts_token_says_so(world, eu, live_api):
    """Checking a tenant's connections on an account whose token integrator.io refused
    answered "integrator.io could not be asked ... Try again in a minute": the host's
    developer waited and retried for nothing, and the operator was not told which token to
    replace (a plan of the same tenant said it)."""
    _, eu_template, eu_token = eu
    tenant = _ready_tenant(world, eu_template, "acme-eu")
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.ACTIVE)
    integrator_account_save(key="eu-main", name="EU", region="eu", token="revoked-token-value")

    answer = live_api.post(f"/api/v1/tenants/{tenant.external_id}/check-connections")

    assert answer.status_code == 503, answer.content
    error = answer.json()["error"]
    assert error["code"] == "integrator_token_refused"
    assert "integrator.io account 'eu-main'" in error["message"]
    assert "manage.py integrator_account eu-main" in error["message"]
    assert error["remote"]["status"] == 401
    assert "revoked-token-value" not in answer.content.decode()
    assert eu_token not in answer.content.decode()


def test_a_connection_check_of_an_account_not_answering_names_that_account(world, eu, live_api):
    """While one account's region is down, the check said only "integrator.io could not be
    asked", though the other accounts answered."""
    _, eu_template, _ = eu
    tenant = _ready_tenant(world, eu_template, "acme-eu")
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.ACTIVE)
    world.sandbox.control.inject_fault("error", path="/eu/v1/*", status=503)

    answer = live_api.post(f"/api/v1/tenants/{tenant.external_id}/check-connections")

    assert answer.status_code == 503, answer.content
    error = answer.json()["error"]
    assert error["code"] == "integrator_unavailable"
    assert "integrator.io account 'eu-main' is not answering" in error["message"]
    assert int(answer["Retry-After"]) >= 1


def test_a_drift_check_refused_for_the_accounts_token_says_whose_token(world, eu, live_api):
    """The drift of a tenant whose account's token integrator.io refused said only
    "GET /eu/v1/integrations/... -> 401: Unauthorized: the bearer token is missing, unknown or
    expired": a host app's developer read it as their own API key refused, and nobody was
    told which account's token to replace."""
    _, eu_template, eu_token = eu
    tenant = _ready_tenant(world, eu_template, "acme-eu")
    with build_integrator_client(account=eu_template.account) as client:
        snapshot = template_snapshot_take(
            client=client, source_integration_id=eu_template.source_integration_id
        )
    type(tenant.template_version).objects.filter(pk=tenant.template_version_id).update(
        snapshot=snapshot
    )
    Tenant.objects.filter(pk=tenant.pk).update(
        status=TenantStatus.ACTIVE, integration_id="6b10406e35b66e7e653e11a2"
    )
    integrator_account_save(key="eu-main", name="EU", region="eu", token="revoked-token-value")

    call_command("check_drift", stdout=io.StringIO())
    drift = live_api.get(f"/api/v1/tenants/{tenant.external_id}/drift")

    assert drift.status_code == 200, drift.content
    check_error = drift.json()["check_error"]
    assert "refused this service's API token of integrator.io account 'eu-main'" in check_error
    assert "manage.py integrator_account eu-main" in check_error
    assert "revoked-token-value" not in check_error and eu_token not in check_error


def test_a_tenants_health_says_whose_token_its_connection_check_was_refused_for(
    world, eu, live_api
):
    """After a connection check refused for the account's token, the tenant's health said
    "integrator.io (connection check): POST /eu/v1/connections/.../ping -> 401: Unauthorized:
    the bearer token is missing", read by a host app as its own key refused."""
    _, eu_template, eu_token = eu
    tenant = _ready_tenant(world, eu_template, "acme-eu")
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.ACTIVE)
    integrator_account_save(key="eu-main", name="EU", region="eu", token="revoked-token-value")

    live_api.post(f"/api/v1/tenants/{tenant.external_id}/check-connections")
    health = live_api.get(f"/api/v1/tenants/{tenant.external_id}/health")

    assert health.status_code == 200, health.content
    last_error = health.json()["sync"]["last_error"]
    assert "refused this service's API token of integrator.io account 'eu-main'" in last_error
    assert "manage.py integrator_account eu-main" in last_error
    assert "revoked-token-value" not in last_error and eu_token not in last_error

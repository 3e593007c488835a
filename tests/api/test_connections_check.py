"""POST /api/v1/tenants/{external_id}/check-connections: the periodic check, now."""

import time

import pytest

from runs.actions import connections_check_turn_free
from runs.models import TenantHealth
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from webhooks.models import Event, EventType

pytestmark = pytest.mark.django_db

PATH = "/api/v1/tenants/{}/check-connections"


def _events(event_type):
    return list(Event.objects.filter(event_type=event_type))


def test_a_connection_fixed_on_the_apps_side_recovers_the_tenant_at_once(api, account, make_tenant):
    acme = make_tenant("acme")
    shop = acme.connection_ids["shop"]
    account.control.force_ping_outcome(shop, ok=False, message="Invalid API key.")

    failing = api.post(PATH.format("acme"))

    assert failing.status_code == 200, failing.content
    by_slot = {each["slot"]: each for each in failing.json()["connections"]}
    assert by_slot["shop"]["status"] == "failed"
    assert by_slot["shop"]["error"] == "Invalid API key."
    assert failing.json()["tenant_status"] == "degraded"
    assert len(_events(EventType.CONNECTION_FAILED)) == 1
    assert len(_events(EventType.TENANT_DEGRADED)) == 1

    # Asked again at once: the turn is spent, and says when the next one comes.
    again = api.post(PATH.format("acme"))
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "check_too_soon"
    assert 1 <= int(again["Retry-After"]) <= 30

    account.control.force_ping_outcome(shop, ok=True)
    connections_check_turn_free(tenant=acme.tenant)  # the 30 s have passed
    fixed = api.post(PATH.format("acme"))

    assert fixed.status_code == 200
    by_slot = {each["slot"]: each for each in fixed.json()["connections"]}
    assert by_slot["shop"]["status"] == "ok"
    assert by_slot["shop"]["error"] is None
    assert fixed.json()["tenant_status"] == "active"
    assert acme.refresh().status == TenantStatus.ACTIVE
    assert TenantConnection.objects.get(tenant=acme.tenant, slot_key="shop").status == "ok"
    assert TenantHealth.objects.get(tenant=acme.tenant).offline_connections == []
    assert len(_events(EventType.TENANT_RECOVERED)) == 1


def test_a_credential_the_app_repeats_in_its_refusal_is_kept_nowhere(api, account, make_tenant):
    # Some target apps echo the credential they refused. Unlike a submission (whose typed
    # values the service knows, and masks), a check of a saved connection knows no secret:
    # what looks like one is masked as every log line is (core.redaction).
    acme = make_tenant("acme")
    secret = "sk-Live-9f8e7d6c5b4a3"
    account.control.force_ping_outcome(
        acme.connection_ids["shop"], ok=False, message=f"invalid key: Bearer {secret}"
    )

    answer = api.post(PATH.format("acme"))

    assert answer.status_code == 200, answer.content
    by_slot = {each["slot"]: each for each in answer.json()["connections"]}
    assert by_slot["shop"]["error"] == "invalid key: Bearer [REDACTED]"
    assert secret not in api.get("/api/v1/tenants/acme").content.decode()
    row = TenantConnection.objects.get(tenant=acme.tenant, slot_key="shop")
    assert secret not in row.last_ping_error
    assert secret not in (acme.refresh().last_error or "")
    assert secret not in str(TenantHealth.objects.get(tenant=acme.tenant).__dict__)
    assert all(secret not in str(event.data) for event in Event.objects.all())


def test_it_refuses_a_tenant_with_nothing_to_check(api, make_tenant):
    make_tenant("waiting", status=TenantStatus.PROVISIONING)
    acme = make_tenant("acme")
    TenantConnection.objects.filter(tenant=acme.tenant).update(
        connection_id="", status=ConnectionStatus.MISSING
    )
    gone = make_tenant("gone")
    gone.tenant.__class__.objects.filter(pk=gone.tenant.pk).update(
        status=TenantStatus.DEPROVISIONED
    )

    none = api.post(PATH.format("acme"))
    not_live = api.post(PATH.format("waiting"))
    deprovisioned = api.post(PATH.format("gone"))

    assert (none.status_code, none.json()["error"]["code"]) == (409, "no_connections")
    assert (not_live.status_code, not_live.json()["error"]["code"]) == (409, "tenant_not_live")
    assert (deprovisioned.status_code, deprovisioned.json()["error"]["code"]) == (
        409,
        "tenant_deprovisioned",
    )


def test_a_read_only_key_may_not_check(make_tenant, scoped_api):
    make_tenant("acme")
    response = scoped_api("tenants:read").post(PATH.format("acme"))
    assert response.status_code == 403


def test_the_calls_of_one_request_stop_at_its_time_budget(api, account, make_tenant, settings):
    # Each ping had its own timeout (15 s): two slow pings outlived the web server's 30 s
    # timeout, which killed the request with no answer. Together they now stop at the
    # request's budget, and the caller hears when to come back.
    settings.INTEGRATOR_REQUEST_BUDGET_SECONDS = 1.0
    settings.INTEGRATOR_TIMEOUT_SECONDS = 5.0
    make_tenant("acme")
    account.control.inject_fault("hang", path="/v1/connections/*/ping", hang_seconds=4)

    started = time.monotonic()
    response = api.post(PATH.format("acme"))
    elapsed = time.monotonic() - started

    assert elapsed < 2.5, elapsed
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "integrator_unavailable"
    assert int(response["Retry-After"]) >= 1

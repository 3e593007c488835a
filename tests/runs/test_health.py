"""The health rules move a tenant to degraded and back, and tell the host app."""

import pytest

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.runner import job_run_once
from provisioning.services import credentials_submit, job_request
from provisioning.tasks import error_is_transient
from runs.checks import tenant_connections_check
from runs.health import health_rollup, tenant_health_evaluate
from runs.models import FlowRun, HealthStatus, TenantFlow, TenantHealth
from runs.sync import tenant_runs_sync
from runs.tasks import runs_check_batch, runs_sync_batch
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tests.fixtures.live_tenants import run_flow, wait_for
from webhooks.models import Event, EventType

pytestmark = pytest.mark.django_db(transaction=True)


def _status_after(task, tenant, expected):
    task.delay([tenant.pk])
    return wait_for(lambda: tenant.refresh().status == expected)


def _events(event_type):
    return list(Event.objects.filter(event_type=event_type).order_by("created_at"))


def test_it_degrades_a_tenant_whose_flow_keeps_failing_and_recovers_it(
    account, make_tenant, live_worker
):
    acme = make_tenant("acme")
    orders = acme.flow_ids[0]
    for _ in range(3):
        run_flow(account, orders, ["failed"])

    assert _status_after(runs_sync_batch, acme, TenantStatus.DEGRADED)
    health = TenantHealth.objects.get(tenant=acme.tenant)
    assert health.status == HealthStatus.UNHEALTHY
    assert health.degraded_by_health
    assert [flow["flow_id"] for flow in health.failing_flows] == [orders]
    assert health.failed_runs_24h == 3
    assert "failed its last 3 runs" in acme.tenant.last_error
    (degraded,) = _events(EventType.TENANT_DEGRADED)
    assert degraded.data["previous_status"] == "active"
    assert "failed its last 3 runs" in degraded.data["reason"]
    run_failed = _events(EventType.RUN_FAILED)
    assert len(run_failed) == 3
    assert {event.data["run_id"] for event in run_failed} == set(
        FlowRun.objects.filter(tenant=acme.tenant, status="failed").values_list("job_id", flat=True)
    )

    run_flow(account, orders, ["completed"])
    assert _status_after(runs_sync_batch, acme, TenantStatus.ACTIVE)
    assert TenantHealth.objects.get(tenant=acme.tenant).status == HealthStatus.HEALTHY
    assert acme.tenant.last_error == ""
    (recovered,) = _events(EventType.TENANT_RECOVERED)
    assert recovered.data["previous_status"] == "degraded"
    assert len(_events(EventType.TENANT_DEGRADED)) == 1


def test_it_degrades_a_tenant_whose_connection_fails_its_check(account, make_tenant, live_worker):
    acme = make_tenant("acme")
    shop = acme.connection_ids["shop"]
    account.control.force_ping_outcome(shop, ok=False, message="Invalid API key.")

    assert _status_after(runs_check_batch, acme, TenantStatus.DEGRADED)
    connection = TenantConnection.objects.get(tenant=acme.tenant, slot_key="shop")
    assert connection.status == ConnectionStatus.FAILED
    assert connection.last_ping_error == "Invalid API key."
    (failed,) = _events(EventType.CONNECTION_FAILED)
    assert failed.data["slot"] == "shop"
    assert failed.data["error"] == "Invalid API key."
    assert TenantHealth.objects.get(tenant=acme.tenant).offline_connections[0]["slot"] == "shop"

    # Still failing at the next check: no second event.
    assert _status_after(runs_check_batch, acme, TenantStatus.DEGRADED)
    assert len(_events(EventType.CONNECTION_FAILED)) == 1

    account.control.force_ping_outcome(shop, ok=True)
    assert _status_after(runs_check_batch, acme, TenantStatus.ACTIVE)
    assert TenantConnection.objects.get(tenant=acme.tenant, slot_key="shop").status == "ok"
    assert len(_events(EventType.TENANT_RECOVERED)) == 1


def test_it_does_not_count_partial_or_canceled_runs_as_failures(account, make_tenant, runs_client):
    acme = make_tenant("acme")
    orders = acme.flow_ids[0]
    run_flow(account, orders, ["failed", "failed", "partial"])
    run_flow(account, orders)
    run_flow(account, orders)

    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)

    rollup = health_rollup(tenant=acme.tenant)
    assert rollup.status == HealthStatus.HEALTHY
    assert rollup.failed_runs_24h == 2
    assert rollup.errors_24h > 2  # the partial run's record errors count as errors
    assert acme.refresh().status == TenantStatus.ACTIVE


def test_it_does_not_judge_a_disabled_flow(account, make_tenant, runs_client):
    acme = make_tenant("acme")
    orders = acme.flow_ids[0]
    run_flow(account, orders, ["failed", "failed", "failed"])
    run_flow(account, orders)
    run_flow(account, orders)
    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)
    assert acme.refresh().status == TenantStatus.DEGRADED

    TenantFlow.objects.filter(tenant=acme.tenant, flow_id=orders).update(disabled=True)
    tenant_health_evaluate(tenant=acme.tenant)

    assert acme.refresh().status == TenantStatus.ACTIVE


def test_it_leaves_a_tenant_degraded_by_something_else_alone(account, make_tenant, runs_client):
    acme = make_tenant("acme", status=TenantStatus.DEGRADED)
    run_flow(account, acme.flow_ids[0])

    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)

    # Its runs are fine, but it is degraded (a failed repair, say): health says so, rather
    # than "healthy" beside a degraded tenant; and the rules do not undo it.
    health = TenantHealth.objects.get(tenant=acme.tenant)
    assert health.status == HealthStatus.UNHEALTHY
    assert health.reasons == ["The tenant is degraded."]
    assert acme.refresh().status == TenantStatus.DEGRADED
    assert not Event.objects.exists()


def test_a_connection_its_customer_fixes_recovers_the_tenant_at_once(
    account, make_tenant, runs_client
):
    # The README's OAuth demo: the check finds a connection offline and degrades the tenant;
    # the customer reconnects on the form. The API must not go on saying "degraded: the shop
    # failed its last check" beside a shop connection that is ok, until the next check.
    acme = make_tenant("acme")
    shop = acme.connection_ids["shop"]
    account.control.force_ping_outcome(shop, ok=False, message="Invalid API key.")
    tenant_connections_check(tenant=acme.tenant, client=runs_client)
    assert acme.refresh().status == TenantStatus.DEGRADED

    outcome = credentials_submit(
        tenant=acme.refresh(),
        slot_key="shop",
        values={"base_url": account.demo_url("shop"), "api_key": account.demo_keys["shop"]},
        requested_by=JobOrigin.FORM,
    )

    assert outcome.submission.ok
    assert acme.refresh().status == TenantStatus.ACTIVE
    assert acme.tenant.last_error == ""
    assert TenantHealth.objects.get(tenant=acme.tenant).offline_connections == []
    assert len(_events(EventType.TENANT_RECOVERED)) == 1


def test_an_offline_connection_is_named_by_its_label_in_the_reasons(
    account, make_tenant, runs_client
):
    # Ops read the reasons in the admin and the host app in the API, beside the tenant's
    # connections shown by their labels: "Online shop" is the connection they see, "shop" only
    # its key (kept in brackets, for the API's paths).
    acme = make_tenant("acme")
    account.control.force_ping_outcome(
        acme.connection_ids["shop"], ok=False, message="Invalid API key."
    )
    tenant_connections_check(tenant=acme.tenant, client=runs_client)

    reason = "Connection 'Online shop' (shop) failed its last check: Invalid API key."
    assert acme.refresh().last_error == reason
    assert TenantHealth.objects.get(tenant=acme.tenant).reasons == [reason]


def test_a_saved_connection_leaves_a_tenant_degraded_by_something_else_alone(account, make_tenant):
    acme = make_tenant("acme", status=TenantStatus.DEGRADED)

    credentials_submit(
        tenant=acme.tenant,
        slot_key="shop",
        values={"base_url": account.demo_url("shop"), "api_key": account.demo_keys["shop"]},
        requested_by=JobOrigin.FORM,
    )

    assert acme.refresh().status == TenantStatus.DEGRADED
    assert not _events(EventType.TENANT_RECOVERED)


def test_a_degraded_tenants_last_error_follows_its_problems(account, make_tenant, runs_client):
    # Degraded for its shop connection; then the orders flow fails three runs (its shop is
    # offline); then the customer fixes the shop. Still degraded, for the flow: `last_error`
    # must say so, not go on blaming a shop connection that is ok.
    acme = make_tenant("acme")
    shop = acme.connection_ids["shop"]
    account.control.force_ping_outcome(shop, ok=False, message="Invalid API key.")
    tenant_connections_check(tenant=acme.tenant, client=runs_client)
    assert acme.refresh().status == TenantStatus.DEGRADED
    assert "'Online shop'" in acme.tenant.last_error

    run_flow(account, acme.flow_ids[0], ["failed", "failed", "failed"])
    run_flow(account, acme.flow_ids[0])
    run_flow(account, acme.flow_ids[0])
    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)
    assert "failed its last 3 runs" in acme.refresh().last_error

    account.control.force_ping_outcome(shop, ok=True)
    tenant_connections_check(tenant=acme.tenant, client=runs_client)

    assert acme.refresh().status == TenantStatus.DEGRADED
    assert "failed its last 3 runs" in acme.tenant.last_error
    assert "'Online shop'" not in acme.tenant.last_error
    assert len(_events(EventType.TENANT_DEGRADED)) == 1


def test_a_failed_jobs_error_on_a_degraded_tenant_is_not_overwritten(
    account, make_tenant, runs_client
):
    acme = make_tenant("acme")
    shop = acme.connection_ids["shop"]
    account.control.force_ping_outcome(shop, ok=False, message="Invalid API key.")
    tenant_connections_check(tenant=acme.tenant, client=runs_client)
    assert acme.refresh().status == TenantStatus.DEGRADED
    # A repair then fails on the live integration: its error is what last_error says.
    type(acme.tenant).objects.filter(pk=acme.tenant.pk).update(last_error="Repair failed.")

    run_flow(account, acme.flow_ids[0], ["failed", "failed", "failed"])
    run_flow(account, acme.flow_ids[0])
    run_flow(account, acme.flow_ids[0])
    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)

    assert acme.refresh().last_error == "Repair failed."


def test_a_tenant_degraded_by_its_health_stays_degraded_after_a_job_that_succeeds(
    account, make_tenant, runs_client, monkeypatch
):
    # A settings change succeeds on a tenant whose shop connection fails its checks: the
    # job's success says nothing of the connection. The job moved the tenant to active (a
    # `tenant.recovered` to the host app) and the next check degraded it again (a second
    # `tenant.degraded`): a flip-flop per job while nothing had changed.
    acme = make_tenant("acme")
    account.control.force_ping_outcome(
        acme.connection_ids["shop"], ok=False, message="Invalid API key."
    )
    tenant_connections_check(tenant=acme.tenant, client=runs_client)
    assert acme.refresh().status == TenantStatus.DEGRADED
    reason = acme.tenant.last_error
    monkeypatch.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
    job = job_request(tenant=acme.tenant, kind=JobKind.UPDATE_SETTINGS, requested_by=JobOrigin.API)

    job_run_once(job_id=str(job.pk), owner="test", transient=error_is_transient)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert acme.refresh().status == TenantStatus.DEGRADED
    assert acme.tenant.last_error == reason
    assert not _events(EventType.TENANT_RECOVERED)
    assert len(_events(EventType.TENANT_DEGRADED)) == 1
    # Its health still recovers it once the connection works again.
    account.control.force_ping_outcome(acme.connection_ids["shop"], ok=True)
    tenant_connections_check(tenant=acme.tenant, client=runs_client)
    assert acme.refresh().status == TenantStatus.ACTIVE


def test_a_tenant_degraded_by_a_failed_job_is_active_after_a_job_that_succeeds(
    account, make_tenant, monkeypatch
):
    acme = make_tenant("acme", status=TenantStatus.DEGRADED)
    type(acme.tenant).objects.filter(pk=acme.tenant.pk).update(last_error="Upgrade failed.")
    monkeypatch.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
    job = job_request(tenant=acme.tenant, kind=JobKind.UPDATE_SETTINGS, requested_by=JobOrigin.API)

    job_run_once(job_id=str(job.pk), owner="test", transient=error_is_transient)

    assert acme.refresh().status == TenantStatus.ACTIVE
    assert acme.tenant.last_error == ""

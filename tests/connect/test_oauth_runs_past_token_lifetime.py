"""Issue 18's token-lifetime scenario end to end: with 5-second access tokens a live tenant's
flow runs, through the sandbox as integrator.io, keep succeeding for a minute (each run's
OAuth connection is refreshed the way integrator.io does); once the grant is revoked at the
app, the check takes the connection offline and the tenant degrades; the `connection.failed`
webhook's reconnect link leads to a new consent, and the tenant recovers.

About 75 seconds (the minute of runs, then provisioning and the reconnect): marked `slow`
(`-m "not slow"` leaves it out); OAUTH_RUNS_SECONDS shortens the minute for a quick look.
"""

import json
import os
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client

from core.accounts import integrator_account_default
from core.integrator_client import build_integrator_client
from provisioning.models import JobOrigin
from provisioning.services import credentials_submit
from runs.actions import flow_run_start
from runs.checks import tenant_connections_check
from runs.models import TenantFlow
from tenants.connect_links import connect_link_create
from tenants.models import Tenant, TenantStatus
from tenants.services import template_load, tenant_create
from tests.connect.oauth_helpers import connect_by_consent
from tests.fixtures.crm_oauth import DEMO_OAUTH_CLIENTS, crm_template_document
from webhooks.events import event_body
from webhooks.models import Event, EventType

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ACCESS_TOKEN_SECONDS = 5
RUNS_SECONDS = float(os.environ.get("OAUTH_RUNS_SECONDS", "60"))


def _until(predicate, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _status(tenant: Tenant) -> str:
    return Tenant.objects.values_list("status", flat=True).get(pk=tenant.pk)


def _run_to_the_end(tenant: Tenant, flow_id: str):
    started = flow_run_start(tenant=tenant, flow_id=flow_id)
    with build_integrator_client(account=integrator_account_default()) as client:
        return _until(
            lambda: (job := client.get_job(started.job_id)).is_finished and job,
            seconds=20,
            what="the run to finish",
        )


@pytest.mark.timeout(240)
def test_runs_outlive_five_second_tokens_and_a_revoked_grant_is_reconnected(
    sandbox, provisioning_worker, settings
):
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    sandbox.control.configure(crm_access_token_seconds=ACCESS_TOKEN_SECONDS)
    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(external_id="acme", name="Acme", template=template)
    credentials_submit(
        tenant=tenant,
        slot_key="erp",
        values={"base_url": sandbox.demo_url("erp"), "api_key": sandbox.demo_keys["erp"]},
        requested_by=JobOrigin.API,
    )
    answer = connect_by_consent(Client(), connect_link_create(tenant=tenant).path)
    assert "CRM is connected" in answer.content.decode()
    _until(lambda: _status(tenant) == TenantStatus.ACTIVE, seconds=60, what="active")
    tenant.refresh_from_db()
    with build_integrator_client(account=integrator_account_default()) as client:
        tenant_connections_check(tenant=tenant, client=client)  # mirrors the tenant's flows
    flow_id = TenantFlow.objects.filter(tenant=tenant).values_list("flow_id", flat=True)[0]

    runs, began = [], time.monotonic()
    while time.monotonic() - began < RUNS_SECONDS:
        job = _run_to_the_end(tenant, flow_id)
        runs.append(job)
        assert job.status == "completed" and job.num_error == 0, job
        # The access token the connection holds expires before the next run: each run after
        # the first needs a refresh.
        time.sleep(ACCESS_TOKEN_SECONDS + 0.5)
    assert len(runs) >= 2

    sandbox.control.revoke_crm_grants()
    with build_integrator_client(account=integrator_account_default()) as client:
        assert tenant_connections_check(tenant=tenant, client=client).failed == ["crm"]
    assert _status(tenant) == TenantStatus.DEGRADED

    event = Event.objects.get(tenant=tenant, event_type=EventType.CONNECTION_FAILED)
    reconnect_url = json.loads(event_body(event=event))["data"]["reconnect_url"]
    path = reconnect_url.removeprefix(django_settings.SERVICE_PUBLIC_URL)
    assert "CRM is connected" in connect_by_consent(Client(), path).content.decode()
    with build_integrator_client(account=integrator_account_default()) as client:
        assert tenant_connections_check(tenant=tenant, client=client).failed == []
    assert _status(tenant) == TenantStatus.ACTIVE
    assert _run_to_the_end(tenant, flow_id).status == "completed"

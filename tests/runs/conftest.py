"""Fixtures for runs and webhooks: the session sandbox, a real worker pointed at it, and
tenants whose integration is a clone of the sandbox's demo template.

Tenants are set up directly (rows here, the clone through the integrator.io client), not
through the provisioning engine: these tests are about what happens once a tenant is live.
"""

import time

import pytest

from integrator.client import IntegratorClient, replace_operations
from runs.call_budget import CallCounter, build_runs_client
from sandbox.seed import DEMO_INTEGRATION_ID
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import (
    ConnectionStatus,
    IntegrationTemplate,
    Tenant,
    TenantConnection,
    TenantStatus,
)
from tenants.services import template_document_read
from tests.fixtures.worker import QUICK_POLICIES

# This process's view of the worker's webhook policy (tests.fixtures.worker.QUICK_POLICIES).
QUICK_WEBHOOKS = {
    name: value for name, value in QUICK_POLICIES.items() if name.startswith("WEBHOOK_")
}


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until `predicate()` is truthy; returns its value (or the last falsy one)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope="session")
def live_worker(celery_worker):
    """The session's Celery worker, which talks to the session sandbox."""
    return celery_worker


@pytest.fixture
def live_settings(settings, worker_env):
    """This process's settings, matching the worker's."""
    settings.INTEGRATOR_API_URL = worker_env["INTEGRATOR_API_URL"]
    settings.INTEGRATOR_API_TOKEN = worker_env["INTEGRATOR_API_TOKEN"]
    settings.WEBHOOK_TIMEOUT_SECONDS = float(QUICK_WEBHOOKS["WEBHOOK_TIMEOUT_SECONDS"])
    settings.WEBHOOK_MAX_ATTEMPTS = int(QUICK_WEBHOOKS["WEBHOOK_MAX_ATTEMPTS"])
    settings.WEBHOOK_RETRY_BASE_SECONDS = float(QUICK_WEBHOOKS["WEBHOOK_RETRY_BASE_SECONDS"])
    settings.WEBHOOK_RETRY_MAX_SECONDS = int(QUICK_WEBHOOKS["WEBHOOK_RETRY_MAX_SECONDS"])
    return settings


@pytest.fixture
def account(sandbox_clean, live_settings):
    """A clean sandbox account with the demo template, where runs start and end at once
    unless a test says otherwise."""
    sandbox_clean.control.seed()
    sandbox_clean.control.configure(job_queue_seconds=0, job_run_seconds=0, job_cancel_seconds=0)
    return sandbox_clean


@pytest.fixture
def runs_client(live_settings):
    counter = CallCounter()
    client = build_runs_client(counter=counter)
    client.counter = counter
    yield client
    client.close()


class LiveTenant:
    """A tenant row plus its cloned integration's ids in the sandbox."""

    def __init__(self, tenant: Tenant, flow_ids: list[str], connection_ids: dict[str, str]):
        self.tenant = tenant
        self.flow_ids = flow_ids
        self.connection_ids = connection_ids

    @property
    def pk(self) -> int:
        return self.tenant.pk

    def refresh(self) -> Tenant:
        self.tenant.refresh_from_db()
        return self.tenant


@pytest.fixture
def make_tenant(account, runs_client):
    """make_tenant("acme") -> LiveTenant: an active tenant with its own clone of the demo
    integration (flows and connections of its own)."""
    document = template_document_read(path=DEMO_TEMPLATE_FILE)
    template, _ = IntegrationTemplate.objects.get_or_create(
        key="shop-to-erp",
        defaults={
            "name": "Shop to ERP",
            "source_integration_id": DEMO_INTEGRATION_ID,
            "slots": document["slots"],
            "settings_schema": document["settings_schema"],
        },
    )

    def make(external_id: str, *, status: str = TenantStatus.ACTIVE) -> LiveTenant:
        client: IntegratorClient = runs_client
        manifest = client.clone_integration(DEMO_INTEGRATION_ID, name=f"Tenant {external_id}")
        connection_ids = {}
        for connection_id in manifest.ids("Connection"):
            name = client.get_connection(connection_id).name.lower()
            connection_ids["shop" if "shop" in name else "erp"] = connection_id
        tenant = Tenant.objects.create(
            external_id=external_id,
            name=external_id.title(),
            template=template,
            status=status,
            integration_id=manifest.integration_id,
        )
        for slot, connection_id in connection_ids.items():
            TenantConnection.objects.create(
                tenant=tenant,
                slot_key=slot,
                connection_id=connection_id,
                status=ConnectionStatus.OK,
            )
        flow_ids = sorted(manifest.ids("Flow"))
        for flow_id in flow_ids:  # as provisioning leaves them: enabled
            client.patch_flow(flow_id, replace_operations({"disabled": False}))
        return LiveTenant(tenant, flow_ids, connection_ids)

    return make


def run_flow(sandbox, flow_id: str, outcomes: list | None = None) -> str:
    """Start a run of the flow in the sandbox (optionally forcing its outcome); its job id."""
    if outcomes:
        sandbox.control.force_job_outcomes(flow_id, outcomes)
    response = sandbox.api().post(f"{sandbox.api_url}/flows/{flow_id}/run", json={}, timeout=10)
    response.raise_for_status()
    return response.json()["_jobId"]


def finish(sandbox, job_id: str) -> dict:
    """Move the job to its end now (whatever its timing); returns the job."""
    return sandbox.control.advance_job(job_id, to="end")

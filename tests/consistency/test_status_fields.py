"""Every status field has one meaning, and no two fields of one answer disagree.

A state machine (hypothesis) walks a tenant through what the service really does to it:
credentials that work or do not, provisioning run by the real engine (in this process, against
the sandbox over HTTP), a template integration that has gone missing, settings changes, runs
that complete or fail, a connection that stops answering its check, deprovisioning and
registering again. After every step the tenant's status view and its health, read through the
API as a host app reads them, must agree with each other:

- `ready` is true exactly when every slot's connection is `ok`;
- an `ok` connection has an id and no error; a `missing` one has no id;
- a tenant that waits for credentials is not ready; a live one (active, degraded) has an
  integration; a deprovisioned one has neither an integration nor a working connection;
- `current_job` is unfinished and `last_job` finished; an active tenant carries no error;
- health is `unknown` unless the tenant is live, `unhealthy` (with reasons) beside a degraded
  tenant, and `healthy` only for an active tenant with a finished run and no failing flow or
  offline connection; an offline connection in health is a `failed` slot in the view.
"""

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from rest_framework.test import APIClient

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from core.accounts import integrator_account_default
from integrator.client import IntegratorClient
from provisioning import lease
from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.runner import job_run_once
from provisioning.services import credentials_submit, job_request
from provisioning.tasks import error_is_transient
from runs.call_budget import CallCounter
from runs.call_budget import build_runs_client as runs_client_of
from runs.checks import tenant_connections_check
from runs.sync import tenant_runs_sync
from sandbox.seed import DEMO_INTEGRATION_ID
from tenants.models import Tenant
from tenants.services import tenant_create, tenant_update
from tests.fixtures.factories import IntegrationTemplateFactory, template_source_set

LIVE = ("active", "degraded")
FINISHED_JOBS = ("succeeded", "failed", "canceled")
SLOTS = ("shop", "erp")
# What the walks reached, so that the test fails if they stop reaching the interesting states.
SEEN: set[tuple[str, object]] = set()

pytestmark = pytest.mark.django_db


def build_runs_client(**options):
    """The walker's tenants are on the default account. (A wrapper rather than an argument
    at each call: the walks are derandomized from the rules' source, which stays as it was.)"""
    return runs_client_of(account=integrator_account_default(), **options)


def machine_for(sandbox, api: APIClient):
    class TenantLife(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            sandbox.control.reset()
            sandbox.control.seed()
            sandbox.control.configure(job_queue_seconds=0, job_run_seconds=0)
            self.client = IntegratorClient(sandbox.api_url, sandbox.token, timeout=5)
            self.template = IntegrationTemplateFactory(key="shop-to-erp")
            self.external_id = f"t-{uuid.uuid4().hex[:10]}"
            self.tenant, _ = tenant_create(
                external_id=self.external_id, name="Walker", template=self.template
            )

        def teardown(self):
            self.client.close()

        # --- what happens to a tenant ---------------------------------------------------

        @rule(slot=st.sampled_from(SLOTS), works=st.booleans())
        def hand_over_credentials(self, slot, works):
            if self._status() in ("deprovisioning", "deprovisioned"):
                return
            key = sandbox.demo_keys[slot] if works else "not-the-key"
            values = {"base_url": sandbox.demo_url(slot), "api_key": key}
            credentials_submit(
                tenant=self._fresh(), slot_key=slot, values=values, requested_by=JobOrigin.FORM
            )

        @rule()
        def the_customer_fills_in_the_whole_form(self):
            if self._status() in ("deprovisioning", "deprovisioned"):
                return
            for slot in SLOTS:
                self.hand_over_credentials(slot=slot, works=True)
            self.the_worker_runs_what_is_queued()

        @rule()
        def the_worker_runs_what_is_queued(self):
            for _ in range(6):
                job = Job.objects.filter(
                    tenant=self._fresh(), status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
                ).first()
                if job is None:
                    return
                Job.objects.filter(pk=job.pk).update(due_at=job.created_at)
                job_run_once(job_id=str(job.pk), owner="walker", transient=error_is_transient)

        @rule()
        def the_template_integration_goes_missing(self):
            template_source_set(self.template, "5eed0000000000000000dead")

        @rule()
        def the_template_integration_is_fixed(self):
            template_source_set(self.template, DEMO_INTEGRATION_ID)

        @rule(stock=st.booleans())
        def settings_change(self, stock):
            tenant = self._fresh()
            if tenant.status in ("deprovisioning", "deprovisioned"):
                return
            changed = tenant_update(tenant=tenant, settings_patch={"flows": {"stock": stock}})
            if changed and tenant.integration_id and tenant.status in (*LIVE, "failed"):
                self._ask(tenant, JobKind.UPDATE_SETTINGS)

        @rule(outcome=st.sampled_from(["completed", "failed"]), times=st.integers(1, 3))
        def a_flow_runs(self, outcome, times):
            tenant = self._fresh()
            if tenant.status not in LIVE:
                return
            flows = self.client.list_integration_flows(tenant.integration_id)
            flow = next(f for f in flows if not f.disabled)
            sandbox.control.force_job_outcomes(flow.id, [outcome] * times)
            for _ in range(times):
                run = self.client.run_flow(flow.id)
                sandbox.control.advance_job(run.job_id, to="end")
            with build_runs_client(counter=CallCounter()) as client:
                tenant_runs_sync(tenant=tenant, client=client, counter=CallCounter())

        @rule()
        def a_flow_completes(self):
            self.a_flow_runs(outcome="completed", times=1)

        @rule()
        def a_flow_keeps_failing(self):
            self.a_flow_runs(outcome="failed", times=3)

        @rule(slot=st.sampled_from(SLOTS))
        def a_connection_stops_answering_its_check(self, slot):
            tenant = self._fresh()
            if tenant.status not in LIVE:
                return
            row = tenant.connections.filter(slot_key=slot).exclude(connection_id="").first()
            if tenant.status not in LIVE or row is None:
                return
            sandbox.control.force_ping_outcome(row.connection_id, ok=False, code=401, times=1)
            with build_runs_client() as client:
                tenant_connections_check(tenant=tenant, client=client)

        @rule()
        def deprovision(self):
            tenant = self._fresh()
            if tenant.status != "deprovisioned":
                self._ask(tenant, JobKind.DEPROVISION)

        @rule()
        def register_again(self):
            if self._status() != "deprovisioned":
                return
            tenant_create(external_id=self.external_id, name="Walker", template=self.template)

        # --- what every answer must say -----------------------------------------------------

        @invariant()
        def the_status_view_agrees_with_itself(self):
            view = api.get(f"/api/v1/tenants/{self.external_id}/").json()
            connections = view["connections"]
            assert view["ready"] == all(c["status"] == "ok" for c in connections), view
            for c in connections:
                if c["status"] == "ok":
                    assert c["connection_id"] and not c["last_ping_error"], c
                if c["status"] == "missing":
                    assert c["connection_id"] is None, c
            status = view["status"]
            SEEN.add(("status", status))
            if status == "awaiting_credentials":
                assert not view["ready"], view
            if status in LIVE:
                assert view["integration_id"], view
            if status == "active":
                assert view["last_error"] is None, view
            if status == "deprovisioned":
                assert view["integration_id"] is None, view
                assert not any(c["status"] == "ok" for c in connections), view
            if view["current_job"]:
                assert view["current_job"]["status"] in ("queued", "running"), view
            if view["last_job"]:
                assert view["last_job"]["status"] in FINISHED_JOBS, view

        @invariant()
        def health_agrees_with_the_tenant(self):
            view = api.get(f"/api/v1/tenants/{self.external_id}/").json()
            health = api.get(f"/api/v1/tenants/{self.external_id}/health").json()
            assert health["tenant_status"] == view["status"]
            SEEN.add(("health", health["status"]))
            if view["status"] not in LIVE:
                assert health["status"] == "unknown", health
            if view["status"] == "degraded":
                assert health["status"] == "unhealthy" and health["reasons"], health
            if health["status"] == "healthy":
                assert view["status"] == "active", health
                assert health["last_run"] is not None, health
                assert not health["failing_flows"] and not health["offline_connections"]
            failed_slots = {c["slot"] for c in view["connections"] if c["status"] == "failed"}
            assert {c["slot"] for c in health["offline_connections"]} <= failed_slots

        # --- helpers ---------------------------------------------------------------------------

        def _status(self) -> str:
            return self._fresh().status

        def _fresh(self) -> Tenant:
            return Tenant.objects.select_related("template").get(
                external_id=self.external_id, superseded_at__isnull=True
            )

        def _ask(self, tenant, kind):
            try:
                job_request(tenant=tenant, kind=kind, requested_by=JobOrigin.API)
            except Exception as error:  # a refusal (409) is an answer too; it changes nothing
                assert getattr(error, "http_status", None) == 409, error

    return TenantLife


def test_no_two_status_fields_disagree(sandbox, settings_override):
    _, key = api_key_create(name="walker", scopes=ALL_SCOPES)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    machine = machine_for(sandbox, api)
    machine.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        # The same walks on every run (a CI failure reproduces); the coverage check below
        # says they still reach every state that matters.
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine.TestCase().runTest()
    statuses = {"active", "degraded", "failed", "awaiting_credentials", "deprovisioned"}
    assert {("status", s) for s in statuses} <= SEEN, sorted(SEEN)
    assert {("health", h) for h in ("healthy", "unhealthy", "unknown")} <= SEEN, sorted(SEEN)


@pytest.fixture
def settings_override(settings, sandbox, monkeypatch):
    settings.INTEGRATOR_API_URL = sandbox.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox.token
    # The engine's clients are made once per process and account; this test's must talk to
    # the sandbox.
    monkeypatch.setattr(lease, "_clients", {})
    yield settings

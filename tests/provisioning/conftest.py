"""The provisioning engine under test: a real Celery worker (threads pool) on the test Redis
and database, provisioning against the sandbox over real HTTP.

`engine` (session) is that worker, started with short timeouts, backoffs and leases so that
faults and crashes recover in seconds. `world` (per test) resets and seeds the sandbox and
gives the test a template, tenants with working connections, and ways to wait and look.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest

from core.remote_marks import integration_mark, integration_tag
from integrator.client import IntegratorClient
from provisioning import sweeper
from provisioning.models import Job, JobStatus
from provisioning.ownership import mark_is_tenants
from provisioning.policy import POLICY
from provisioning.tasks import job_run
from tenants.models import Tenant
from tenants.services import tenant_connection_submit
from tests.fixtures.worker import WorkerProcess
from tests.tenants.factories import IntegrationTemplateFactory, TenantFactory

# The in-process view of the session worker's policy (tests.fixtures.worker.QUICK_POLICIES),
# for sweeps a test runs itself.
ENGINE_POLICY = dataclasses.replace(
    POLICY, lease_seconds=8.0, sweep_grace_seconds=2.0, retry_max_seconds=1.5
)


@pytest.fixture(scope="session")
def engine(celery_worker) -> WorkerProcess:
    """The session worker, which talks to the session sandbox with quick policies."""
    return celery_worker


@dataclasses.dataclass
class World:
    sandbox: object
    template: object
    client: IntegratorClient
    seed: dict
    engine: WorkerProcess

    def tenant(self, name: str = "Acme", *, ready: bool = True, settings: dict | None = None):
        """A tenant whose connections are created in the sandbox and tested (if `ready`)."""
        tenant = TenantFactory(name=name, template=self.template, settings=settings or {})
        if ready:
            for slot in self.template.slots:
                result = tenant_connection_submit(
                    tenant=tenant,
                    slot_key=slot["key"],
                    values={
                        "base_url": self.sandbox.demo_url(slot["key"]),
                        "api_key": self.sandbox.demo_keys[slot["key"]],
                    },
                    client=self.client,
                )
                assert result.ok, result.message
        tenant.refresh_from_db()
        return tenant

    def tag(self, tenant: Tenant) -> str:
        return integration_tag(tenant_uid=tenant.uid, template_key=self.template.key)

    def clones(self, tenant: Tenant) -> list[dict]:
        """The sandbox's integrations that carry the tenant's mark (tag or name)."""
        integrations = self.sandbox.control.objects("integrations")["objects"]["integrations"]
        return [i for i in integrations if mark_is_tenants(integration_mark(i), tenant=tenant)]

    def objects(self, collection: str) -> list[dict]:
        return self.sandbox.control.objects(collection)["objects"][collection]

    def wait(self, jobs, *, timeout: float = 30.0, sweep: bool = False) -> list[Job]:
        """Wait until every job has finished; `sweep` runs the sweeper meanwhile."""
        ids = [job.pk for job in (jobs if isinstance(jobs, list | tuple) else [jobs])]
        deadline = time.monotonic() + timeout
        while True:
            unfinished = Job.objects.filter(
                pk__in=ids, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
            ).count()
            if not unfinished:
                break
            if time.monotonic() > deadline:
                states = list(Job.objects.filter(pk__in=ids).values_list("status", "error_message"))
                raise AssertionError(f"jobs still unfinished after {timeout}s: {states}")
            if sweep:
                sweep_now()
            time.sleep(0.2)
        found = {job.pk: job for job in Job.objects.filter(pk__in=ids).select_related("tenant")}
        return [found[i] for i in ids]


def sweep_now() -> list:
    """What beat does every minute, with the engine's short grace period, from the test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweeper, "POLICY", ENGINE_POLICY)
        report = sweeper.jobs_sweep()
    for job_id in report.resend:
        job_run.delay(str(job_id))
    return report.resend


@pytest.fixture
def world(transactional_db, sandbox, engine, settings) -> World:
    sandbox.control.reset()
    seed = sandbox.control.seed()
    settings.INTEGRATOR_API_URL = sandbox.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox.token
    template = IntegrationTemplateFactory(key="shop-to-erp", name="Shop to ERP")
    client = IntegratorClient(sandbox.api_url, sandbox.token, timeout=5)
    yield World(sandbox=sandbox, template=template, client=client, seed=seed, engine=engine)
    client.close()
    sandbox.control.clear_faults()
    sandbox.control.clear_latency()
    quiesce_jobs()


def quiesce_jobs(timeout: float = 15.0) -> None:
    """Leave the session worker nothing to do before the test database is flushed: a worker
    claiming a job while the tables are truncated deadlocks the flush. Queued jobs are
    canceled (their claim then finds nothing), running ones are given time to end."""
    Job.objects.filter(status=JobStatus.QUEUED).update(status=JobStatus.CANCELED)
    deadline = time.monotonic() + timeout
    while Job.objects.filter(status=JobStatus.RUNNING).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def wait_until() -> Callable:
    def wait(predicate, timeout: float = 20.0, interval: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return False

    return wait

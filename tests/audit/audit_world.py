"""What the audit tests act on: tenants (one live in the sandbox), jobs, endpoints and
deliveries, rollouts, runs with errors, orphans; each made when a test asks for it."""

from django.utils import timezone

from core.remote_marks import integration_tag
from provisioning.models import Job, JobKind, JobOrigin, JobStep, Orphan
from rollouts.models import Rollout
from runs.models import FlowRun
from runs.sync import tenant_runs_sync
from tenants.models import TemplateVersion, Tenant
from tests.fixtures.factories import TenantFactory
from tests.fixtures.live_tenants import run_flow
from webhooks import services as webhooks
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

NOBODY = "nobody000000"


class World:
    """What the cases act on: acme (active, a live integration in the sandbox), acme-42
    (waiting for credentials), a second version of the template; more on demand."""

    def __init__(self, account, make_tenant, runs_client):
        self.sandbox = account
        self.client = runs_client
        self.live = make_tenant("acme")
        self.acme = self.live.tenant
        self.template = self.acme.template
        self.v1 = self.acme.template_version
        self.v2 = TemplateVersion.objects.create(
            template=self.template,
            version="2.0.0",
            digest="b" * 64,
            source_integration_id=self.v1.source_integration_id,
            slots=self.v1.slots,
            settings_schema=self.v1.settings_schema,
            settings_mapping=self.v1.settings_mapping,
            # Published online: tenants are moved only to a version with a snapshot.
            snapshot={"integration": {"_id": self.v1.source_integration_id}, "flows": []},
        )
        self.waiting = TenantFactory(
            external_id="acme-42", template=self.template, template_version=self.v1
        )

    def job(self, status: str) -> Job:
        job = Job.objects.create(
            tenant=self.acme,
            kind=JobKind.REPAIR,
            requested_by=JobOrigin.API,
            due_at=timezone.now(),
            status=status,
        )
        JobStep.objects.create(job=job, name="connections", position=1)
        Tenant.objects.filter(pk=self.acme.pk).update(latest_job=job)
        return job

    def endpoint(self):
        return webhooks.endpoint_create(url="https://hooks.example.com/in").endpoint

    def delivery(self) -> WebhookDelivery:
        endpoint = self.endpoint()
        webhooks.event_record(
            tenant=self.acme, event_type=EventType.RUN_FAILED, data={"run_id": "r1"}
        )
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DELIVERED)
        return delivery

    def rollout(self, status: str) -> Rollout:
        return Rollout.objects.create(
            template=self.template,
            to_version=self.v2,
            strategy="percent",
            wave_percent=100,
            max_failure_rate=0,
            status=status,
            created_by="test",
            wave_count=1,
        )

    def run_with_errors(self) -> FlowRun:
        run_flow(self.sandbox, self.live.flow_ids[0], [{"numRecords": 5, "numError": 3}])
        tenant_runs_sync(tenant=self.acme, client=self.client, counter=self.client.counter)
        return FlowRun.objects.get(tenant=self.acme)

    def orphan(self, kind: str, remote_id: str) -> Orphan:
        now = timezone.now()
        return Orphan.objects.create(
            kind=kind,
            remote_id=remote_id,
            name="Lost",
            mark="m",
            reason="No tenant uses it.",
            first_seen_at=now,
            last_seen_at=now,
        )

    def lost_clone(self) -> str:
        manifest = self.client.clone_integration(
            self.v1.source_integration_id,
            name="Lost clone",
            extra={"tag": integration_tag(tenant_uid=NOBODY, template_key=self.template.key)},
        )
        return manifest.integration_id

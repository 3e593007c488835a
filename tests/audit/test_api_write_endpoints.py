"""Every write endpoint of the API records exactly one audit event: the API key as the actor
(its prefix and name), the action and target of the use case, the tenant, the request's id,
and no secret in what changed.

One row per write operation of the OpenAPI document (`test_the_table_covers_every_write_
endpoint` fails when an endpoint is added without a row). Each case builds what it acts on
(rows here, objects in the sandbox where the operation calls integrator.io), then sends one
request; only the events that request made are looked at.
"""

import json
from dataclasses import dataclass

import pytest
from drf_spectacular.generators import SchemaGenerator

from audit.models import AuditEvent
from provisioning.models import Job, JobKind, JobStatus, OrphanKind
from rollouts.models import RolloutStatus
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, Tenant
from tests.audit.audit_world import World

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    operation: str  # the OpenAPI operationId
    method: str
    action: str
    target_type: str
    tenant: str = "acme"


def _request(case: Case, w: World):
    """(path, body, expected target id or None) for the case, after setting up its world."""
    op = case.operation
    if op == "tenants_create":
        body = {"external_id": "initech", "name": "Initech", "template": w.template.key}
        return "/api/v1/tenants", body, None
    if op == "tenants_partial_update":
        return "/api/v1/tenants/acme", {"name": "Acme Renamed"}, str(w.acme.pk)
    if op == "tenants_destroy":
        return "/api/v1/tenants/acme-42", None, str(w.waiting.pk)
    if op == "tenants_connect_links_create":
        return "/api/v1/tenants/acme/connect-links", {"slot": "shop"}, None
    if op == "tenants_connect_links_revoke":
        link = connect_link_create(tenant=w.acme).link
        return f"/api/v1/tenants/acme/connect-links/{link.pk}", None, str(link.pk)
    if op == "tenants_connections_update":
        body = {
            "fields": {
                "base_url": w.sandbox.demo_url("shop"),
                "api_key": w.sandbox.demo_keys["shop"],
            }
        }
        return "/api/v1/tenants/acme-42/connections/shop", body, None
    if op == "tenants_provision":
        w.waiting.connections.update(connection_id="c", status=ConnectionStatus.OK)
        return "/api/v1/tenants/acme-42/provision", None, str(w.waiting.pk)
    if op == "tenants_repair":
        return "/api/v1/tenants/acme/repair", None, str(w.acme.pk)
    if op == "tenants_connections_check":
        return "/api/v1/tenants/acme/check-connections", None, str(w.acme.pk)
    if op == "jobs_retry":
        job = w.job(JobStatus.FAILED)
        return f"/api/v1/jobs/{job.pk}/retry", None, str(job.pk)
    if op == "jobs_cancel":
        job = w.job(JobStatus.QUEUED)
        return f"/api/v1/jobs/{job.pk}/cancel", None, str(job.pk)
    if op in ("tenants_runs_errors_resolve", "tenants_runs_errors_retry"):
        run = w.run_with_errors()
        verb = op.rsplit("_", 1)[1]
        return f"/api/v1/tenants/acme/runs/{run.job_id}/errors/{verb}", {}, run.job_id
    if op == "tenants_flows_run":
        flow_id = w.live.flow_ids[0]
        return f"/api/v1/tenants/acme/flows/{flow_id}/run", None, flow_id
    if op == "webhook_endpoints_create":
        return "/api/v1/webhooks/endpoints", {"url": "https://hooks.example.com/a"}, None
    if op == "webhook_endpoints_partial_update":
        endpoint = w.endpoint()
        body = {"url": "https://hooks.example.com/b", "is_active": False}
        return f"/api/v1/webhooks/endpoints/{endpoint.pk}", body, str(endpoint.pk)
    if op == "webhook_endpoints_destroy":
        endpoint = w.endpoint()
        return f"/api/v1/webhooks/endpoints/{endpoint.pk}", None, str(endpoint.pk)
    if op == "webhook_endpoints_rotate_secret":
        endpoint = w.endpoint()
        path = f"/api/v1/webhooks/endpoints/{endpoint.pk}/rotate-secret"
        return path, None, str(endpoint.pk)
    if op == "webhook_endpoints_ping":
        endpoint = w.endpoint()
        return f"/api/v1/webhooks/endpoints/{endpoint.pk}/ping", None, str(endpoint.pk)
    if op == "webhook_deliveries_replay":
        delivery = w.delivery()
        return f"/api/v1/webhooks/deliveries/{delivery.pk}/replay", None, str(delivery.pk)
    if op == "orphans_delete_remotely":
        orphan = w.orphan(OrphanKind.INTEGRATION, w.lost_clone())
        return f"/api/v1/orphans/{orphan.pk}/delete", None, str(orphan.pk)
    if op == "orphans_adopt":
        orphan = w.orphan(OrphanKind.INTEGRATION, w.lost_clone())
        return f"/api/v1/orphans/{orphan.pk}/adopt", {"tenant": "acme-42"}, str(orphan.pk)
    if op == "rollouts_create":
        body = {"to_version": "2.0.0", "strategy": "percent", "wave_percent": 100}
        return f"/api/v1/templates/{w.template.key}/rollouts", body, None
    if op in ("rollouts_pause", "rollouts_resume", "rollouts_abort", "rollouts_rollback"):
        status = RolloutStatus.PAUSED if op == "rollouts_resume" else RolloutStatus.RUNNING
        rollout = w.rollout(status)
        verb = op.split("_")[1]
        return f"/api/v1/rollouts/{rollout.pk}/{verb}", None, str(rollout.pk)
    if op == "tenants_pin":
        return "/api/v1/tenants/acme/pin", None, str(w.acme.pk)
    if op == "tenants_unpin":
        Tenant.objects.filter(pk=w.acme.pk).update(version_pinned=True)
        return "/api/v1/tenants/acme/unpin", None, str(w.acme.pk)
    if op == "tenants_upgrade":
        return "/api/v1/tenants/acme/upgrade", {"to_version": "2.0.0"}, str(w.acme.pk)
    if op == "templates_versions_retire":
        path = f"/api/v1/templates/{w.template.key}/versions/{w.v1.version}/retire"
        return path, None, str(w.v1.pk)
    raise AssertionError(f"no request for {op}")


CASES = [
    Case("tenants_create", "post", "tenant.create", "tenant", tenant="initech"),
    Case("tenants_partial_update", "patch", "tenant.update", "tenant"),
    Case("tenants_destroy", "delete", "tenant.deprovision", "tenant", tenant="acme-42"),
    Case("tenants_connect_links_create", "post", "connect_link.create", "connectlink"),
    Case("tenants_connect_links_revoke", "delete", "connect_link.revoke", "connectlink"),
    Case(
        "tenants_connections_update",
        "put",
        "connection.submit",
        "tenantconnection",
        tenant="acme-42",
    ),
    Case("tenants_provision", "post", "tenant.provision", "tenant", tenant="acme-42"),
    Case("tenants_repair", "post", "tenant.repair", "tenant"),
    Case("tenants_connections_check", "post", "tenant.connections_check", "tenant"),
    Case("jobs_retry", "post", "job.retry", "job"),
    Case("jobs_cancel", "post", "job.cancel", "job"),
    Case("tenants_runs_errors_resolve", "post", "run_errors.resolve", "flow_run"),
    Case("tenants_runs_errors_retry", "post", "run_errors.retry", "flow_run"),
    Case("tenants_flows_run", "post", "flow.run", "flow"),
    Case("webhook_endpoints_create", "post", "webhook_endpoint.create", "webhookendpoint", ""),
    Case(
        "webhook_endpoints_partial_update",
        "patch",
        "webhook_endpoint.update",
        "webhookendpoint",
        "",
    ),
    Case("webhook_endpoints_destroy", "delete", "webhook_endpoint.delete", "webhookendpoint", ""),
    Case(
        "webhook_endpoints_rotate_secret",
        "post",
        "webhook_endpoint.rotate_secret",
        "webhookendpoint",
        "",
    ),
    Case("webhook_endpoints_ping", "post", "webhook_endpoint.ping", "webhookendpoint", ""),
    Case("webhook_deliveries_replay", "post", "webhook_delivery.replay", "webhookdelivery", ""),
    Case("orphans_delete_remotely", "post", "orphan.delete", "orphan", ""),
    Case("orphans_adopt", "post", "orphan.adopt", "orphan", tenant="acme-42"),
    Case("rollouts_create", "post", "rollout.start", "rollout", ""),
    Case("rollouts_pause", "post", "rollout.pause", "rollout", ""),
    Case("rollouts_resume", "post", "rollout.resume", "rollout", ""),
    Case("rollouts_abort", "post", "rollout.abort", "rollout", ""),
    Case("rollouts_rollback", "post", "rollout.rollback", "rollout", ""),
    Case("tenants_pin", "post", "tenant.pin", "tenant"),
    Case("tenants_unpin", "post", "tenant.unpin", "tenant"),
    Case("tenants_upgrade", "post", "tenant.upgrade", "tenant"),
    Case("templates_versions_retire", "post", "template_version.retire", "templateversion", ""),
]


def test_the_table_covers_every_write_endpoint():
    document = SchemaGenerator().get_schema(request=None, public=True)
    writes = {
        operation["operationId"]
        for operations in document["paths"].values()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    }
    assert writes == {case.operation for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.operation)
def test_each_write_endpoint_records_one_event(
    case, api, host_key, account, make_tenant, runs_client
):
    world = World(account, make_tenant, runs_client)
    path, body, target_id = _request(case, world)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = getattr(api, case.method)(
        path, body, format="json", HTTP_X_REQUEST_ID=f"rq-{case.operation}"
    )

    assert response.status_code < 300, response.content
    events = list(AuditEvent.objects.filter(id__gt=last))
    assert len(events) == 1, [(e.action, e.target_type) for e in events]
    [event] = events
    assert (event.actor_type, event.actor_id, event.actor_name) == (
        "api_key",
        host_key.split(".")[0],
        "host app",
    )
    assert (event.action, event.target_type, event.tenant) == (
        case.action,
        case.target_type,
        case.tenant,
    )
    if target_id is not None:
        assert event.target_id == target_id
    assert event.request_id == f"rq-{case.operation}"
    recorded = json.dumps(event.changes)
    for secret in _secrets(world, host_key, response):
        assert secret not in recorded


def _secrets(world: World, host_key: str, response) -> list[str]:
    secrets = [host_key, host_key.split(".")[1], world.sandbox.demo_keys["shop"]]
    if response.content:
        answer = response.json()
        if isinstance(answer, dict):
            # A webhook endpoint's signing secret, a connect link's token.
            secrets += [answer[name] for name in ("secret", "token") if answer.get(name)]
    return secrets


def _events_of(request) -> list[AuditEvent]:
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = request()
    assert response.status_code < 300, response.content
    return list(AuditEvent.objects.filter(id__gt=last))


def test_a_settings_change_and_the_job_that_applies_it_are_one_event(
    api, account, make_tenant, runs_client
):
    world = World(account, make_tenant, runs_client)

    events = _events_of(
        lambda: api.patch(
            "/api/v1/tenants/acme", {"settings": {"sync_interval_minutes": 60}}, format="json"
        )
    )

    assert Job.objects.filter(tenant=world.acme, kind=JobKind.UPDATE_SETTINGS).exists()
    [event] = events
    assert event.action == "tenant.update"
    assert event.changes == {"settings": {"before": {}, "after": {"sync_interval_minutes": 60}}}


def test_the_last_slots_credentials_and_the_provision_they_start_are_one_event(
    api, account, make_tenant, runs_client
):
    world = World(account, make_tenant, runs_client)
    world.waiting.connections.filter(slot_key="erp").update(
        connection_id="c", status=ConnectionStatus.OK
    )
    fields = {"base_url": account.demo_url("shop"), "api_key": account.demo_keys["shop"]}

    events = _events_of(
        lambda: api.put(
            "/api/v1/tenants/acme-42/connections/shop", {"fields": fields}, format="json"
        )
    )

    assert Job.objects.filter(tenant=world.waiting, kind=JobKind.PROVISION).exists()
    assert [(e.action, e.tenant) for e in events] == [("connection.submit", "acme-42")]


def test_a_connect_link_is_recorded_with_what_it_lets_its_holder_do(
    api, account, make_tenant, runs_client
):
    """A link that opens the integration page and may change settings is not the same grant
    as a read-only look at the runs: the event says which sections, read only or not, and
    the language."""
    World(account, make_tenant, runs_client)

    [portal] = _events_of(
        lambda: api.post(
            "/api/v1/tenants/acme/connect-links",
            {"sections": ["settings", "flows"], "locale": "de"},
            format="json",
        )
    )
    [look] = _events_of(
        lambda: api.post(
            "/api/v1/tenants/acme/connect-links",
            {"sections": ["runs"], "read_only": True},
            format="json",
        )
    )

    assert portal.changes["sections"] == {"before": None, "after": ["settings", "flows"]}
    assert portal.changes["read_only"] == {"before": None, "after": False}
    assert portal.changes["locale"] == {"before": None, "after": "de"}
    assert look.changes["sections"] == {"before": None, "after": ["runs"]}
    assert look.changes["read_only"] == {"before": None, "after": True}

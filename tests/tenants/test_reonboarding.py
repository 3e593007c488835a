"""A customer who leaves and comes back: registering a deprovisioned tenant's external id
again makes a new incarnation; the old one stays, with its jobs, as history."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.accounts import integrator_account_default
from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from tenants.models import Tenant, TenantStatus

pytestmark = pytest.mark.django_db

TENANTS = "/api/v1/tenants/"
BODY = {"external_id": "globex", "name": "Globex Corp", "template": "shop-to-erp"}


def gone(tenant, status=TenantStatus.DEPROVISIONED):
    """The state a finished deprovision leaves (the engine's part is tested elsewhere)."""
    Job.objects.create(
        tenant=tenant,
        kind=JobKind.DEPROVISION,
        requested_by=JobOrigin.API,
        status=JobStatus.SUCCEEDED,
        due_at=timezone.now(),
    )
    Tenant.objects.filter(pk=tenant.pk).update(status=status)


def test_a_deprovisioned_tenant_can_be_registered_again(api, globex):
    gone(globex)

    response = api.post(TENANTS, BODY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["incarnation"], body["status"]) == (2, "awaiting_credentials")
    assert api.get(f"{TENANTS}globex/").json()["incarnation"] == 2
    old, new = Tenant.objects.filter(external_id="globex").order_by("incarnation")
    assert old.superseded_at is not None and old.status == TenantStatus.DEPROVISIONED
    assert old.jobs.count() == 1, "the old incarnation keeps its history"
    assert new.uid != old.uid, "its marks in integrator.io are its own"
    assert [t["incarnation"] for t in api.get(TENANTS).json()["results"]] == [2]


def test_the_new_incarnation_takes_links_and_jobs(api, globex):
    gone(globex)
    api.post(TENANTS, BODY, format="json")

    link = api.post(f"{TENANTS}globex/connect-links", {}, format="json")
    assert link.status_code == 201, link.json()
    patch = api.patch(f"{TENANTS}globex/", {"name": "Globex Again"}, format="json")
    assert patch.status_code == 200, patch.json()


def test_registering_again_waits_until_the_deprovisioning_has_finished(api, globex):
    gone(globex, status=TenantStatus.DEPROVISIONING)
    response = api.post(TENANTS, BODY, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "tenant_deprovisioning"
    assert Tenant.objects.filter(external_id="globex").count() == 1
    # "Once it is deprovisioned" is soon: the answer says when to look again.
    assert int(response["Retry-After"]) >= 1


def test_a_retry_with_the_same_idempotency_key_registers_once_deprovisioned(api, globex):
    # The 409 asked for a retry later: a stored 409 would have answered that retry with
    # itself for the whole replay window, and the tenant could not come back under the key.
    gone(globex, status=TenantStatus.DEPROVISIONING)
    first = api.post(TENANTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="come-back")
    assert first.status_code == 409
    Tenant.objects.filter(pk=globex.pk).update(status=TenantStatus.DEPROVISIONED)

    again = api.post(TENANTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="come-back")

    assert again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in again


def test_the_same_create_twice_on_a_live_tenant_is_still_one_tenant(api, globex):
    same = {**BODY, "allowed_origins": globex.allowed_origins}
    first = api.post(TENANTS, same, format="json")
    assert first.status_code == 200
    assert first.json()["incarnation"] == 1
    assert Tenant.objects.filter(external_id="globex").count() == 1


def test_a_job_says_which_incarnation_it_belongs_to(api, globex):
    gone(globex)
    old_job = globex.jobs.get()
    api.post(TENANTS, BODY, format="json")
    new = Tenant.objects.get(external_id="globex", superseded_at=None)
    new_job = Job.objects.create(
        tenant=new,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        status=JobStatus.QUEUED,
        due_at=timezone.now(),
    )

    old = api.get(f"/api/v1/jobs/{old_job.pk}").json()
    assert (old["tenant"], old["incarnation"]) == ("globex", 1)
    assert api.get(f"/api/v1/jobs/{new_job.pk}").json()["incarnation"] == 2

    current = api.get(f"{TENANTS}globex/jobs").json()["results"]
    assert [(j["id"], j["incarnation"]) for j in current] == [(str(new_job.pk), 2)]
    earlier = api.get(f"{TENANTS}globex/jobs?incarnation=1").json()["results"]
    assert [(j["id"], j["incarnation"]) for j in earlier] == [(str(old_job.pk), 1)]
    assert api.get(f"{TENANTS}globex/jobs?incarnation=2").json()["results"] == current


def test_listing_the_jobs_of_an_incarnation_that_never_was_is_a_404(api, globex):
    response = api.get(f"{TENANTS}globex/jobs?incarnation=2")
    assert response.status_code == 404, response.json()
    assert response.json()["error"] == {
        "code": "tenant_not_found",
        "message": "Tenant 'globex' has no incarnation 2 (its current one is 1).",
    }
    assert api.get(f"{TENANTS}globex/jobs?incarnation=0").status_code == 400


def test_an_earlier_incarnations_runs_are_listed_with_its_number(api, globex):
    from runs.models import FlowRun, RunStatus

    now = timezone.now()
    FlowRun.objects.create(
        tenant=globex,
        job_id="5eed000000000000000a0001",
        flow_id="5eed000000000000000f0001",
        status=RunStatus.COMPLETED,
        created_at=now,
        synced_at=now,
    )
    gone(globex)
    api.post(TENANTS, BODY, format="json")

    assert api.get(f"{TENANTS}globex/runs").json()["results"] == []
    earlier = api.get(f"{TENANTS}globex/runs?incarnation=1").json()["results"]
    assert [run["run_id"] for run in earlier] == ["5eed000000000000000a0001"]
    never = api.get(f"{TENANTS}globex/runs?incarnation=3")
    assert (never.status_code, never.json()["error"]["code"]) == (404, "tenant_not_found")


def test_the_audit_log_says_which_integrator_io_account_each_incarnation_is_on(api, globex):
    """The events recorded the template but not the account its tenants are placed on (where
    the integration is cloned, which a template's account change in the admin cannot show)."""
    api.post(TENANTS, {**BODY, "external_id": "initech"}, format="json")
    gone(globex)
    api.post(TENANTS, BODY, format="json")

    default = integrator_account_default().key
    created = AuditEvent.objects.get(action="tenant.create", tenant="initech")
    reonboarded = AuditEvent.objects.get(action="tenant.reonboard", tenant="globex")
    for event in (created, reonboarded):
        assert event.changes["account"] == {"before": None, "after": default}
        assert event.changes["template"]["after"] == "shop-to-erp"


def test_an_earlier_incarnations_costs_are_read_with_its_number(api, globex):
    """As its jobs and runs: the current incarnation's calls by default, an earlier one's with
    `incarnation`, a 404 for one that never was."""
    from tenants.call_costs import call_counts_add
    from tenants.models import CallPurpose

    call_counts_add({(globex.pk, CallPurpose.PROVISION): 6})
    gone(globex)
    api.post(TENANTS, BODY, format="json")
    new = Tenant.objects.get(external_id="globex", superseded_at=None)
    call_counts_add({(new.pk, CallPurpose.FORM): 2})

    current = api.get(f"{TENANTS}globex/costs?days=1")
    assert current.status_code == 200, current.json()
    assert (current.json()["incarnation"], current.json()["totals"]) == (2, {"form": 2})
    earlier = api.get(f"{TENANTS}globex/costs?days=1&incarnation=1")
    assert earlier.status_code == 200, earlier.json()
    assert (earlier.json()["incarnation"], earlier.json()["totals"]) == (1, {"provision": 6})
    never = api.get(f"{TENANTS}globex/costs?incarnation=3")
    assert (never.status_code, never.json()["error"]["code"]) == (404, "tenant_not_found")

"""Drift: a live tenant's integration changed in integrator.io behind the service's back is
found by one check, reported once, and repaired where the template says so."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from provisioning.drift import drift_check, drift_check_due
from provisioning.models import Drift, DriftCheck, JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from provisioning.tasks import job_run
from runs.models import HealthStatus
from tenants.models import CallPurpose, TenantCallCount, TenantStatus
from tests.provisioning.test_provision_calls import provision
from webhooks.models import Event, EventType

SHOP_CONNECTION = "5eed00000000000000000c01"  # the template's, not the tenant's


@pytest.fixture
def live(world, versions):
    tenant = world.tenant("Acme")
    job = provision(world, tenant)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert drift_check(tenant=tenant, client=world.client) is None
    return tenant


def tenant_docs(world, tenant, collection):
    return [d for d in world.objects(collection) if d["_integrationId"] == tenant.integration_id]


def test_an_edited_schedule_is_drift_reported_once_then_cleared(world, live, live_api):
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok

    first = drift_check(tenant=live, client=world.client)
    again = drift_check(tenant=live, client=world.client)

    assert first is not None and again.pk == first.pk
    [change] = again.changes
    assert change["change"] == "UpdateFlow"
    assert ["schedule", "? 0 3 * * *", "? */15 * * * *"] in change["diff"]
    assert Event.objects.filter(event_type=EventType.TENANT_DRIFTED).count() == 1
    body = live_api.get(f"/api/v1/tenants/{live.external_id}/drift").json()
    assert body["drifted"] is True and body["changes"][0]["change"] == "UpdateFlow"
    assert first.repair_job is None  # the template only reports by default

    world.wait(
        job_request(
            tenant=live,
            kind=JobKind.UPGRADE,
            requested_by=JobOrigin.API,
            target_version=live.template_version,
        )
    )
    assert drift_check(tenant=live, client=world.client) is None
    first.refresh_from_db()
    assert first.cleared_at is not None
    assert live_api.get(f"/api/v1/tenants/{live.external_id}/drift").json()["drifted"] is False


@pytest.mark.parametrize("change", ["export_field", "deleted_flow", "connection"])
def test_each_kind_of_drift_is_found_in_one_check_and_repaired(world, live, change):
    api, base = world.sandbox.api(), world.sandbox.api_url
    exports = sorted(tenant_docs(world, live, "exports"), key=lambda e: e["_id"])
    if change == "export_field":
        doc = api.get(f"{base}/exports/{exports[0]['_id']}").json()
        doc["http"]["relativeURI"] = "/somewhere-else"
        assert api.put(f"{base}/exports/{exports[0]['_id']}", json=doc).ok
        expected = "UpdateStep"
    elif change == "deleted_flow":
        [flow, *_] = tenant_docs(world, live, "flows")
        assert api.delete(f"{base}/flows/{flow['_id']}").ok
        expected = "AddFlow"
    else:
        url = f"{base}/exports/{exports[0]['_id']}/replaceConnection"
        assert api.put(url, json={"_newConnectionId": SHOP_CONNECTION}).ok
        expected = "ReplaceConnection"
    world.template.drift_action = "repair"
    world.template.save()

    episode = drift_check(tenant=live, client=world.client)

    assert expected in {c["change"] for c in episode.changes}
    assert episode.repair_job is not None
    [job] = world.wait(episode.repair_job)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert drift_check(tenant=live, client=world.client) is None
    assert len(tenant_docs(world, live, "flows")) == 3


def test_a_repaired_deleted_flow_leaves_none_of_its_old_steps_behind(world, live, live_api, capsys):
    api, base = world.sandbox.api(), world.sandbox.api_url
    fresh = world.tenant("Fresh")
    world.wait(job_request(tenant=fresh, kind=JobKind.PROVISION, requested_by=JobOrigin.API))
    fresh.refresh_from_db()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    assert api.delete(f"{base}/flows/{flow['_id']}").ok
    left_over = {
        doc["_id"]
        for collection in ("exports", "imports")
        for doc in tenant_docs(world, live, collection)
        if doc["_id"]
        in {step.get("_exportId") for step in flow.get("pageGenerators") or []}
        | {step.get("_importId") for step in flow.get("pageProcessors") or []}
    }
    assert left_over

    call_command("check_drift", "--tenant", live.external_id)
    assert "drifted since" in capsys.readouterr().out
    response = live_api.post(f"/api/v1/tenants/{live.external_id}/repair")
    assert response.status_code in (200, 201, 202), response.content
    # The repair the request asked for (job ids are UUIDs: their order says nothing).
    [job] = world.wait(live.jobs.get(kind=JobKind.REPAIR))

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert drift_check(tenant=live, client=world.client) is None
    for collection in ("exports", "imports"):
        docs = tenant_docs(world, live, collection)
        assert not left_over & {doc["_id"] for doc in docs}
        # Each step is the copy of the same template step as a fresh clone's.
        assert sorted(d.get("_sourceId") for d in docs) == sorted(
            d.get("_sourceId") for d in tenant_docs(world, fresh, collection)
        )


def test_a_deleted_integration_is_drift_and_its_repair_clones_it_again(world, live):
    assert (
        world.sandbox.api().delete(f"{world.sandbox.api_url}/integrations/{live.integration_id}").ok
    )
    world.template.drift_action = "repair"
    world.template.save()

    episode = drift_check(tenant=live, client=world.client)

    assert [c["change"] for c in episode.changes] == ["CloneIntegration"]
    assert episode.repair_job.kind == JobKind.REPAIR
    [job] = world.wait(episode.repair_job)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    live.refresh_from_db()
    assert len(world.clones(live)) == 1
    assert drift_check(tenant=live, client=world.client) is None


@pytest.mark.parametrize("what", ["integration", "flow"])
def test_a_deleted_part_degrades_the_tenant_at_the_check_that_finds_it(world, live, what):
    # No run can say that a deleted integration is gone: it simply sends none. Health stayed
    # "healthy" and the tenant "active" while only the drift record knew.
    api, base = world.sandbox.api(), world.sandbox.api_url
    if what == "integration":
        assert api.delete(f"{base}/integrations/{live.integration_id}").ok
        said = "The integration is gone from integrator.io (deleted there)."
    else:
        [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
        assert api.delete(f"{base}/flows/{flow['_id']}").ok
        said = f"Flow {flow['name']!r} is gone from the integration (deleted there)."

    drift_check(tenant=live, client=world.client)

    live.refresh_from_db()
    assert live.status == TenantStatus.DEGRADED
    assert live.last_error == said
    assert live.health.status == HealthStatus.UNHEALTHY and live.health.reasons == [said]
    assert Event.objects.filter(event_type=EventType.TENANT_DEGRADED).count() == 1

    # A second check of the same episode sends nothing more; a repair makes it whole again.
    drift_check(tenant=live, client=world.client)
    assert Event.objects.filter(event_type=EventType.TENANT_DEGRADED).count() == 1
    [job] = world.wait(job_request(tenant=live, kind=JobKind.REPAIR, requested_by=JobOrigin.API))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    live.refresh_from_db()  # a deleted integration's repair cloned a new one
    assert drift_check(tenant=live, client=world.client) is None
    live.refresh_from_db()
    assert live.status == TenantStatus.ACTIVE


def test_an_edited_schedule_leaves_the_tenant_active(world, live):
    # The integration still runs: the drift record says what differs, health does not judge it.
    [flow, *_] = tenant_docs(world, live, "flows")
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert world.sandbox.api().patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok

    assert drift_check(tenant=live, client=world.client) is not None

    live.refresh_from_db()
    assert live.status == TenantStatus.ACTIVE
    assert not Event.objects.filter(event_type=EventType.TENANT_DEGRADED).exists()


@override_settings(DRIFT_CHECK_BATCH=2, DRIFT_CHECK_INTERVAL_SECONDS=3600)
def test_a_tick_checks_at_most_its_batch_oldest_first_and_skips_busy_tenants(
    world, versions, monkeypatch
):
    tenants = []
    for name in ("A", "B", "C", "D"):
        tenant = world.tenant(name)
        world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API))
        tenants.append(tenant)
    # A's repair stays queued (its message held back) for the first two ticks, however fast
    # the worker would have run it.
    with monkeypatch.context() as held:
        held.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
        busy = job_request(tenant=tenants[0], kind=JobKind.REPAIR, requested_by=JobOrigin.API)

    first = drift_check_due(clients=lambda account: world.client)
    second = drift_check_due(clients=lambda account: world.client)
    job_run.delay(str(busy.pk))
    world.wait(busy)
    third = drift_check_due(clients=lambda account: world.client)

    assert (first.checked, second.checked, third.checked) == (2, 1, 1)
    assert DriftCheck.objects.count() == 4
    assert not Drift.objects.exists()


def test_check_drift_checks_one_tenant_now_and_says_what_differs(world, live, capsys):
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/disabled", "value": not flow["disabled"]}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok

    call_command("check_drift", "--tenant", live.external_id)

    out = capsys.readouterr().out
    assert f"{live.external_id}: drifted since" in out and "UpdateFlow" in out
    with pytest.raises(CommandError, match="No tenant"):
        call_command("check_drift", "--tenant", "nobody")


def test_check_drift_without_a_tenant_checks_every_live_tenant_now(world, live, capsys):
    """The operator has just changed something in integrator.io and asks for a check now: the
    tenants the periodic check saw within its interval are checked too. It said "Checked 0
    tenants" (they were not due) and found nothing, until the next interval."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    assert DriftCheck.objects.filter(tenant=live).exists()  # checked a moment ago

    call_command("check_drift")

    assert "Checked 1 tenant: 1 drifted" in capsys.readouterr().out
    [episode] = Drift.objects.filter(tenant=live, cleared_at=None)
    assert [c["change"] for c in episode.changes] == ["UpdateFlow"]


def test_check_drift_leaves_a_tenant_whose_job_is_changing_it(world, live, capsys, monkeypatch):
    """Half-way through an upgrade the integration differs from the version the tenant is
    still on: checked then, it was recorded as drift and `tenant.drifted` went to the host
    app, for a change the service itself was making. The periodic check leaves such a tenant
    for later; the command says so too, and records nothing."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    with monkeypatch.context() as held:  # the job stays queued, as one under way would
        held.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
        job = job_request(
            tenant=live,
            kind=JobKind.UPGRADE,
            requested_by=JobOrigin.API,
            target_version=live.template_version,
        )

    with pytest.raises(CommandError, match=f"job {job.pk}.*once it has ended"):
        call_command("check_drift", "--tenant", live.external_id)

    assert not Drift.objects.filter(tenant=live).exists()
    assert not Event.objects.filter(event_type=EventType.TENANT_DRIFTED).exists()


class JobQueuedDuringTheReads:
    """The account's client, through which the check reads the tenant's integration; after
    its first read a job of the tenant is queued (a rollout's wave, say), as happens when a
    tick's batch takes seconds to read and a wave goes out meanwhile."""

    def __init__(self, client, queue_job):
        self._client, self._queue_job, self.job = client, queue_job, None

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            result = attribute(*args, **kwargs)
            if self.job is None:
                self.job = self._queue_job()
            return result

        return call


def test_a_job_queued_while_a_tick_reads_the_tenant_leaves_it_unchecked(world, live, monkeypatch):
    """The tick chose the tenant while it had no job; by the time its integration was read an
    upgrade was under way, whose half-made changes were recorded as drift (and sent as
    `tenant.drifted`). What was read is set aside: the tenant is checked at a later tick."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]  # the job's work
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    DriftCheck.objects.filter(tenant=live).delete()  # due

    def queue_job():
        with monkeypatch.context() as held:  # queued and left so: under way
            held.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
            return job_request(
                tenant=live,
                kind=JobKind.UPGRADE,
                requested_by=JobOrigin.SCHEDULE,
                target_version=live.template_version,
            )

    client = JobQueuedDuringTheReads(world.client, queue_job)
    report = drift_check_due(clients=lambda account: client)

    assert client.job is not None
    assert (report.checked, report.drifted, report.errors) == (0, 0, 1)
    assert not Drift.objects.filter(tenant=live).exists()
    assert not Event.objects.filter(event_type=EventType.TENANT_DRIFTED).exists()
    assert not DriftCheck.objects.filter(tenant=live).exists()  # still due: checked later


def test_check_drift_says_which_repair_it_queued(world, live, capsys):
    """Under `drift: repair` the check queues the repair: the command listed the changes and
    said nothing of it, and an operator who then asked for a repair got a 409."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    world.template.drift_action = "repair"
    world.template.save()

    call_command("check_drift", "--tenant", live.external_id)

    episode = Drift.objects.get(tenant=live, cleared_at=None)
    assert episode.repair_job is not None
    out = capsys.readouterr().out
    assert f"Repair queued: job {episode.repair_job.pk}" in out
    [job] = world.wait(episode.repair_job)
    assert job.status == JobStatus.SUCCEEDED, job.error_message


def test_a_successful_repair_clears_the_drift_it_repaired_without_waiting_for_a_check(
    world, live, live_api
):
    """The repair's reconcile step ends on an empty plan: the API and the admin must not keep
    saying "drifted" until the next periodic check, up to an hour later."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/disabled", "value": not flow["disabled"]}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    episode = drift_check(tenant=live, client=world.client)
    assert episode is not None

    response = live_api.post(f"/api/v1/tenants/{live.external_id}/repair")
    assert response.status_code in (200, 201, 202), response.content
    [job] = world.wait(live.jobs.get(kind=JobKind.REPAIR))
    assert job.status == JobStatus.SUCCEEDED, job.error_message

    episode.refresh_from_db()
    assert episode.cleared_at is not None
    body = live_api.get(f"/api/v1/tenants/{live.external_id}/drift").json()
    assert body["drifted"] is False and body["changes"] == []
    assert body["last_checked_at"] is not None


def test_a_deprovisioned_tenants_drift_is_a_409_as_its_plan_is(world, live, live_api):
    """Its integration is gone: the drift the last check recorded describes nothing that
    exists. It answered 200 `drifted: true` with the changes, which no repair can make."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    assert drift_check(tenant=live, client=world.client) is not None

    assert live_api.delete(f"/api/v1/tenants/{live.external_id}").status_code == 202
    [job] = world.wait(live.jobs.get(kind=JobKind.DEPROVISION))
    assert job.status == JobStatus.SUCCEEDED, job.error_message

    for path in ("drift", "plan"):
        response = live_api.get(f"/api/v1/tenants/{live.external_id}/{path}")
        assert response.status_code == 409, (path, response.content)
        assert response.json()["error"]["code"] == "tenant_deprovisioned", path
    assert "no integration" in response.json()["error"]["message"]


def test_a_deprovisioned_tenants_drift_is_closed_with_it(world, live):
    """Nothing checks a deprovisioned tenant again: its open episode stayed open for good,
    the API said "drifted" and eis_tenants_drifted counted it for ever."""
    api = world.sandbox.api()
    [flow, *_] = sorted(tenant_docs(world, live, "flows"), key=lambda f: f["_id"])
    edit = [{"op": "replace", "path": "/schedule", "value": "? 0 3 * * *"}]
    assert api.patch(f"{world.sandbox.api_url}/flows/{flow['_id']}", json=edit).ok
    episode = drift_check(tenant=live, client=world.client)
    assert episode is not None

    [job] = world.wait(
        job_request(tenant=live, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message

    episode.refresh_from_db()
    assert episode.cleared_at is not None
    assert not Drift.objects.filter(cleared_at=None).exists()


def test_the_command_counts_its_reads_in_the_tenants_costs_under_plan(live, capsys):
    before = sum(
        TenantCallCount.objects.filter(tenant=live, purpose=CallPurpose.PLAN).values_list(
            "calls", flat=True
        )
    )

    call_command("check_drift", "--tenant", live.external_id)

    assert "in sync with version" in capsys.readouterr().out
    after = sum(
        TenantCallCount.objects.filter(tenant=live, purpose=CallPurpose.PLAN).values_list(
            "calls", flat=True
        )
    )
    assert after - before == 4  # the check's four reads (README, DRIFT_CHECK_BATCH)


def test_check_drift_of_every_tenant_says_how_far_it_has_got(world, live, capsys, settings):
    # Four reads a tenant: 10,000 tenants take a while, and the command said nothing until
    # the end; ops could not tell a long check from a hung one.
    second = world.tenant("Globex")
    assert provision(world, second).status == JobStatus.SUCCEEDED
    settings.DRIFT_CHECK_BATCH = 1

    call_command("check_drift")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Checking 2 live tenants (tenants with a job under way are left out)."
    assert "1 of 2 checked: 0 drifted" in lines[1]
    assert lines[-1].startswith("Checked 2 tenants: 0 drifted")

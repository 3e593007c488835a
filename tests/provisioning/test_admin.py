"""The ops admin: job list and page, and the actions that call the services."""

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone

from audit.models import AuditEvent
from provisioning.drift import drift_check
from provisioning.models import (
    ApiCall,
    Drift,
    DriftCheck,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    JobStep,
    Orphan,
    OrphanKind,
)
from provisioning.services import job_request
from tenants.models import Tenant
from tests.fixtures.factories import TenantFactory, template_source_set


@pytest.fixture
def ops(transactional_db, client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-for-tests")
    client.force_login(user)
    return client


def test_it_lists_jobs_and_shows_steps_and_calls(world, ops):
    tenant = world.tenant("Admin view")
    [job] = world.wait(job_request(tenant=tenant, kind="provision", requested_by="admin"))

    listing = ops.get("/admin/provisioning/job/?status__exact=succeeded")
    assert listing.status_code == 200
    assert str(job.pk)[:8] in listing.content.decode()

    page = ops.get(f"/admin/provisioning/job/{job.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/integrations/" in html  # an API call's path
    assert "verify" in html  # a step


def test_a_flow_deleted_in_integrator_io_leaves_the_tenants_flow_list_at_the_drift_check(
    world, versions, ops
):
    """The tenant's page said in its health that a flow was gone (the drift check found it
    deleted) and listed the same flow among the integration's flows as if it were there, until
    the next hourly connection check read the flows again."""
    tenant = world.tenant("Flow gone")
    [job] = world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api"))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    flows = [d for d in world.objects("flows") if d["_integrationId"] == tenant.integration_id]
    gone, *kept = sorted(flows, key=lambda doc: doc["name"])
    assert world.sandbox.api().delete(f"{world.sandbox.api_url}/flows/{gone['_id']}").ok

    assert drift_check(tenant=tenant, client=world.client) is not None

    page = unescape(ops.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode())
    assert f"Flow '{gone['name']}' is gone from the integration" in page
    listed = page.split("<th>Last run</th>", 1)[1].split("</table>", 1)[0]
    assert gone["name"] not in listed
    assert all(doc["name"] in listed for doc in kept)


def test_a_jobs_page_opens_with_what_the_job_is_and_leaves_the_workers_lease_for_last(ops):
    """The page listed the job's fields in the model's order, the lease's first: it opened
    with 'Lease generation' and 'Lease expires at', then the id, the tenant, the kind and the
    status, with the lease owner among the dates."""
    job = Job.objects.create(
        tenant=TenantFactory(external_id="acme"),
        kind=JobKind.PROVISION,
        status=JobStatus.FAILED,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
        error_code="validation",
        error_message="integrator.io refused it",
    )

    page = ops.get(f"/admin/provisioning/job/{job.pk}/change/").content.decode()

    labels = re.findall(r"<label>([^<]+):</label>", page)
    assert labels[:4] == ["Id", "Tenant", "Kind", "Status"]
    assert labels[-3:] == ["Lease owner", "Lease generation", "Lease expires at"]
    assert "Worker&#x27;s lease" in page or "Worker's lease" in page


def test_the_job_list_finds_a_job_by_the_short_id_it_shows(ops):
    """The list, its messages ('Queued 1 job again: 019d1be7 (Repair of eps)') and the tenant
    actions' refusals name a job by the first 8 characters of its id; searched for, those
    found nothing (the search took only a whole id)."""
    tenant = TenantFactory(external_id="acme")
    jobs = [
        Job.objects.create(
            tenant=tenant,
            kind=JobKind.PROVISION,
            status=JobStatus.FAILED,
            requested_by=JobOrigin.API,
            due_at=timezone.now(),
        )
        for _ in range(3)
    ]
    wanted = jobs[1]
    short = str(wanted.pk)[:8]

    found = ops.get("/admin/provisioning/job/", {"q": short}).content.decode()
    whole = ops.get("/admin/provisioning/job/", {"q": str(wanted.pk)}).content.decode()
    upper = ops.get("/admin/provisioning/job/", {"q": short.upper()}).content.decode()

    for page in (found, whole, upper):
        assert f">{short}</a>" in page
        assert all(f">{str(job.pk)[:8]}</a>" not in page for job in jobs if job != wanted)
    assert "1 job" in found


def test_the_job_list_says_why_each_failed_job_failed(ops):
    # Ops filtering the list by "failed" had to open each job to learn why.
    tenant = TenantFactory(external_id="acme")
    now = timezone.now()
    Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        status=JobStatus.FAILED,
        requested_by=JobOrigin.API,
        due_at=now,
        error_code="template_missing",
        error_message="The template integration 5eed of template 'shop' does not exist. " * 6,
    )
    Job.objects.create(
        tenant=TenantFactory(external_id="globex"),
        kind=JobKind.PROVISION,
        status=JobStatus.SUCCEEDED,
        requested_by=JobOrigin.API,
        due_at=now,
        error_message="an earlier attempt's error, since overcome",
    )

    page = ops.get("/admin/provisioning/job/").content.decode()

    assert 'cell-code" title="The template integration 5eed of template' in page
    assert ">template_<wbr>missing</div>" in page
    assert "…" in page  # long messages are cut; the job's page has them whole
    assert "since overcome" not in page


def test_it_retries_a_failed_job_from_the_admin(world, ops):
    template_source_set(world.template, "5eed0000000000000000dead")
    tenant = world.tenant("Admin retry")
    [job] = world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api"))
    assert job.status == JobStatus.FAILED
    template_source_set(world.template, world.seed["integrationId"])

    response = ops.post(
        "/admin/provisioning/job/",
        {"action": "retry_jobs", "_selected_action": [str(job.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    [job] = world.wait(Job.objects.get(pk=job.pk))
    assert job.status == JobStatus.SUCCEEDED
    assert job.requested_by == JobOrigin.API  # the request that started it stays on record


def _job_with_step_output(tenant):
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        status=JobStatus.SUCCEEDED,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
    )
    JobStep.objects.create(
        job=job,
        name="clone",
        position=0,
        status="succeeded",
        output={"integration_id": "65f0c2d4e6b1a8f0c2d4e6b1", "flows": ["f1", "f2"]},
    )
    return job


def test_a_job_page_is_read_only_with_step_outputs_pretty_printed(admin_client):
    job = _job_with_step_output(TenantFactory(external_id="acme"))

    html = admin_client.get(f"/admin/provisioning/job/{job.pk}/change/").content.decode()

    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert '<pre class="json">' in html
    assert "{\n  &quot;flows&quot;: [\n    &quot;f1&quot;," in html


def test_tenant_actions_say_what_they_queued_for_whom(admin_client):
    acme = TenantFactory(external_id="acme")
    globex = TenantFactory(external_id="globex")

    one = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_deprovision", "_selected_action": [acme.pk], "post": "yes"},
        follow=True,
    ).content.decode()
    Job.objects.all().delete()
    Tenant.objects.update(status="active")
    two = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_deprovision", "_selected_action": [acme.pk, globex.pk], "post": "yes"},
        follow=True,
    ).content.decode()

    assert "Queued deprovisioning for acme." in one
    assert "Queued deprovisioning for 2 tenants (acme, globex)." in two
    assert "Done for" not in one + two


def test_deprovisioning_asks_first_naming_the_tenants_and_queues_only_once_confirmed(
    admin_client,
):
    acme = TenantFactory(external_id="acme", name="Acme Corp", status="active")
    globex = TenantFactory(external_id="globex", name="Globex Inc", status="active")
    chosen = {"action": "request_deprovision", "_selected_action": [acme.pk, globex.pk]}

    asked = admin_client.post("/admin/tenants/tenant/", chosen)

    # Like Django's delete: a page naming each tenant, with Yes and a way back; nothing queued.
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Deprovision 2 tenants?" in html
    assert ">acme</a>" in html and ">globex</a>" in html and "Acme Corp" in html
    assert 'name="post" value="yes"' in html and 'value="Yes, deprovision them"' in html
    assert "No, take me back" in html
    assert not Job.objects.exists()
    assert set(Tenant.objects.values_list("status", flat=True)) == {"active"}

    done = admin_client.post("/admin/tenants/tenant/", {**chosen, "post": "yes"}, follow=True)

    assert "Queued deprovisioning for 2 tenants (acme, globex)." in done.content.decode()
    assert set(Job.objects.values_list("tenant__external_id", "kind", "requested_by")) == {
        ("acme", JobKind.DEPROVISION, JobOrigin.ADMIN),
        ("globex", JobKind.DEPROVISION, JobOrigin.ADMIN),
    }


def test_job_actions_say_how_many_jobs_in_words_and_which(admin_client):
    """Cancel said "Canceled 1 job." (of a mixed selection, not which), where Retry names the
    jobs it queued again."""
    job = _job_with_step_output(TenantFactory(external_id="acme"))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)

    html = admin_client.post(
        "/admin/provisioning/job/",
        {"action": "cancel_jobs", "_selected_action": [job.pk]},
        follow=True,
    ).content.decode()

    assert f"Canceled 1 job: {str(job.pk)[:8]} (Provision of acme)." in html


def test_retrying_several_finished_jobs_refuses_them_in_one_plural_sentence(admin_client):
    """Refusals are grouped by reason, so the reason names no single job: it said "Not
    retried: 2 jobs (...): ...; this one is succeeded."."""
    jobs = [_job_with_step_output(TenantFactory(external_id=name)) for name in ("acme", "globex")]

    html = admin_client.post(
        "/admin/provisioning/job/",
        {"action": "retry_jobs", "_selected_action": [job.pk for job in jobs]},
        follow=True,
    ).content.decode()

    assert "this one is" not in html
    assert "Only a failed or canceled job can be retried, not a succeeded one." in html


def test_a_drifted_tenants_page_says_drifted_since_when_and_why(admin_client):
    tenant = TenantFactory(external_id="acme", status="active", integration_id="int-acme")
    found = timezone.now()
    Drift.objects.create(
        tenant=tenant,
        version=tenant.template_version,
        found_at=found,
        last_seen_at=found,
        changes=[{"change": "UpdateFlow", "reason": "Enable flow 'Orders'.", "diff": []}],
    )
    DriftCheck.objects.create(tenant=tenant, checked_at=found)

    html = admin_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()

    # Not the admin's "-" for a field that failed to render.
    assert f"since {formats.localize(timezone.localtime(found))}" in html
    assert "Enable flow &#x27;Orders&#x27;." in html


def test_a_bulk_action_says_each_reason_once_naming_the_tenants_it_refused(admin_client):
    """Provision chosen for a whole fleet awaiting credentials: one warning per reason, naming
    a few tenants and counting the rest, not one warning per tenant (thousands of identical
    lines, the outcome lost among them)."""
    waiting = [TenantFactory(external_id=f"waiting-{n:02d}") for n in range(8)]
    gone = TenantFactory(external_id="gone", status="deprovisioned")

    response = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_provision", "_selected_action": [t.pk for t in [*waiting, gone]]},
        follow=True,
    )

    warnings = [str(message) for message in response.context["messages"]]
    assert len(warnings) == 2, warnings
    [many] = [text for text in warnings if "waiting-" in text]
    [one] = [text for text in warnings if "gone" in text]
    assert many.startswith(
        "Did not queue provisioning for 8 tenants (waiting-00, waiting-01, waiting-02, "
        "waiting-03, waiting-04 and 3 more): it has no working connection yet for erp and shop."
    )
    assert one == "Did not queue provisioning for gone: it is Deprovisioned and takes no new work."
    assert not Job.objects.exists()


def test_deprovisioning_more_tenants_than_a_post_may_hold_fields_is_confirmed_and_done(
    admin_client, settings
):
    """ "Select all" on a fleet, Deprovision, Yes: the confirmation posted one field per tenant,
    and above DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000 by default) Django refused that post with a
    400 page; nothing was done. Here the limit is lowered rather than 1,000 tenants made."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    first = TenantFactory(external_id="fleet-00", status="active")
    template = first.template
    fleet = [first] + [
        TenantFactory(external_id=f"fleet-{n:02d}", status="active", template=template)
        for n in range(1, 30)
    ]
    TenantFactory(external_id="elsewhere", status="failed", template=template)

    asked = admin_client.post(
        "/admin/tenants/tenant/?status__exact=active",
        {
            "action": "request_deprovision",
            "select_across": "1",
            "index": "0",
            "_selected_action": [fleet[0].pk],
        },
    )
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Deprovision 30 tenants?" in html
    start = html.index('<form method="post">')
    form = html[start : html.index("</form>", start)]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)

    done = admin_client.post("/admin/tenants/tenant/?status__exact=active", data, follow=True)

    assert done.status_code == 200
    assert "Queued deprovisioning for 30 tenants (fleet-00, fleet-01," in done.content.decode()
    assert set(Job.objects.values_list("tenant__external_id", flat=True)) == {
        tenant.external_id for tenant in fleet
    }


def test_deprovisioning_a_fleet_asks_naming_a_page_of_tenants_and_the_rest_counted(
    admin_client, monkeypatch
):
    """ "Select all" on 20,000 tenants, Deprovision: the question listed every tenant, one row
    and link each (a 3 MB page that took 36 s to make, past the web server's timeout). It names
    the first ones and counts the rest; the confirmation still covers every one of them."""
    from provisioning import admin as provisioning_admin

    monkeypatch.setattr(provisioning_admin, "CONFIRMATION_ROWS", 3, raising=False)
    first = TenantFactory(external_id="fleet-00", status="active")
    fleet = [first] + [
        TenantFactory(external_id=f"fleet-{n:02d}", status="active", template=first.template)
        for n in range(1, 8)
    ]

    asked = admin_client.post(
        "/admin/tenants/tenant/",
        {
            "action": "request_deprovision",
            "select_across": "1",
            "index": "0",
            "_selected_action": [first.pk],
        },
    )

    html = asked.content.decode()
    assert "Deprovision 8 tenants?" in html
    assert ">fleet-02</a>" in html and ">fleet-03</a>" not in html
    assert "and 5 more" in html
    start = html.index('<form method="post">')
    form = html[start : html.index("</form>", start)]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert sorted(fields["confirmed"].split()) == sorted(str(t.pk) for t in fleet)


def test_a_bulk_action_past_its_time_names_the_tenants_it_did_not_reach(admin_client, settings):
    """Deprovision chosen for a fleet ran in one request for minutes, past the web server's
    timeout (gunicorn kills the worker: a 502, and no word of what was done). It stops starting
    tenants once ADMIN_ACTION_SECONDS are spent and names those it did not reach. Here the
    budget is spent by the first tenant."""
    settings.ADMIN_ACTION_SECONDS = 1e-9
    first = TenantFactory(external_id="fleet-00", status="active")
    fleet = [first] + [
        TenantFactory(external_id=f"fleet-{n:02d}", status="active", template=first.template)
        for n in range(1, 7)
    ]
    asked = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_deprovision", "_selected_action": [t.pk for t in fleet]},
    )
    html = asked.content.decode()
    start = html.index('<form method="post">')
    form = html[start : html.index("</form>", start)]
    data = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        data.setdefault(name, []).append(value)

    done = admin_client.post("/admin/tenants/tenant/", data, follow=True)

    texts = [str(message) for message in done.context["messages"]]
    assert Job.objects.count() == 1
    [job] = Job.objects.all()
    [queued] = [text for text in texts if text.startswith("Queued deprovisioning")]
    assert job.tenant.external_id in queued
    [stopped] = [text for text in texts if "ADMIN_ACTION_SECONDS" in text]
    assert "6 tenants (" in stopped and "select them and run it again" in stopped
    assert job.tenant.external_id not in stopped


def test_the_job_list_counts_api_calls_of_the_jobs_it_shows_only(admin_client):
    """The list's "API calls" column was an aggregate over a join of every job with every API
    call it made: each page's two counts, its rows and its date bar read all of them (7.5 s a
    page for 30,000 jobs of 20 calls each). Now each shown job's calls are counted alone."""
    tenant = TenantFactory(external_id="acme")
    job = _job_with_step_output(tenant)
    step = job.steps.get()
    for _ in range(3):
        ApiCall.objects.create(
            job=job, step=step, method="GET", path="/v1/flows", duration_ms=1.0, attempt=1
        )
    quiet = _job_with_step_output(TenantFactory(external_id="globex"))

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/provisioning/job/")

    assert response.status_code == 200
    counts = {row.pk: row.api_call_count for row in response.context["cl"].result_list}
    assert counts == {job.pk: 3, quiet.pk: 0}
    joined = [q["sql"] for q in queries if 'JOIN "provisioning_apicall"' in q["sql"]]
    assert joined == []
    by_calls = admin_client.get("/admin/provisioning/job/?o=8")  # sorted by the column
    assert [row.pk for row in by_calls.context["cl"].result_list] == [quiet.pk, job.pk]


def test_adopting_into_a_tenant_that_is_not_there_asks_again_keeping_what_was_typed(
    admin_client,
):
    """It went back to the orphan list with the refusal as a message: the form and what the
    person had typed were gone, to be chosen and typed again."""
    now = timezone.now()
    orphan = Orphan.objects.create(
        kind=OrphanKind.CONNECTION,
        remote_id="65f0c2d4e6b1a8f0c2d4e6b2",
        reason="no slot uses it",
        first_seen_at=now,
        last_seen_at=now,
    )

    response = admin_client.post(
        "/admin/provisioning/orphan/",
        {
            "action": "adopt",
            "_selected_action": [str(orphan.pk)],
            "apply": "1",
            "tenant": "acmee",
            "slot": "shop",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "No tenant with external_id" in html
    assert 'value="acmee"' in html and 'value="shop"' in html
    # A nameless orphan is not followed by "()".
    assert "65f0c2d4e6b1a8f0c2d4e6b2</strong> in integrator.io" in html


def test_jobs_and_runs_of_two_incarnations_of_a_tenant_say_which_is_which(ops):
    # A customer who left and came back: the same name and external id, two incarnations.
    # The job and run lists and pages must not show both as the same "Acme (acme)".
    from runs.models import FlowRun, RunStatus

    old = TenantFactory(external_id="acme", name="Acme", status="deprovisioned")
    Tenant.objects.filter(pk=old.pk).update(superseded_at=timezone.now())
    current = TenantFactory(external_id="acme", name="Acme", incarnation=2, template=old.template)
    alone = TenantFactory(external_id="globex", name="Globex")
    jobs = {
        tenant.pk: Job.objects.create(
            tenant=tenant,
            kind=JobKind.PROVISION,
            status=JobStatus.SUCCEEDED,
            requested_by=JobOrigin.API,
            due_at=timezone.now(),
        )
        for tenant in (old, current, alone)
    }
    runs = {
        tenant.pk: FlowRun.objects.create(
            tenant=tenant,
            job_id=f"6a00000000000000000000{number:02d}",
            flow_id="f1",
            status=RunStatus.COMPLETED,
            created_at=timezone.now(),
            synced_at=timezone.now(),
        )
        for number, tenant in enumerate((old, current, alone))
    }

    for listing in ("/admin/provisioning/job/", "/admin/runs/flowrun/"):
        html = ops.get(listing).content.decode()
        assert "Acme (acme, incarnation 1)" in html, listing
        assert "Acme (acme, incarnation 2)" in html, listing
        assert "Acme (acme)<" not in html, listing
        assert "Globex (globex)" in html, "one incarnation: nothing to tell apart"
    for tenant in (old, current):
        label = f"Acme (acme, incarnation {tenant.incarnation})"
        job_page = ops.get(f"/admin/provisioning/job/{jobs[tenant.pk].pk}/change/")
        run_page = ops.get(f"/admin/runs/flowrun/{runs[tenant.pk].pk}/change/")
        for page in (job_page, run_page):
            html = page.content.decode()
            assert label in html
            assert f"/admin/tenants/tenant/{tenant.pk}/change/" in html


def test_an_administrator_deletes_a_drift_episode_by_hand_and_it_is_audited(admin_client):
    """The admin's docstring said read-only; docs/audit.md documents deleting an episode by
    hand (`drift.admin_delete`): its page offers Delete, and the deletion is recorded."""
    tenant = TenantFactory(external_id="acme", status="active", integration_id="int-acme")
    found = timezone.now()
    episode = Drift.objects.create(
        tenant=tenant,
        version=tenant.template_version,
        found_at=found,
        last_seen_at=found,
        cleared_at=found,
        changes=[],
    )

    page = admin_client.get(f"/admin/provisioning/drift/{episode.pk}/change/").content.decode()
    deleted = admin_client.post(f"/admin/provisioning/drift/{episode.pk}/delete/", {"post": "yes"})

    assert f"/admin/provisioning/drift/{episode.pk}/delete/" in page
    assert deleted.status_code == 302
    assert not Drift.objects.filter(pk=episode.pk).exists()
    assert AuditEvent.objects.filter(action="drift.admin_delete").count() == 1


def test_the_drift_list_filters_by_the_state_its_column_shows(admin_client):
    """The list's filter was Django's "By cleared at: Empty / Not empty": an operator looking
    for the tenants that differ now had to know that "Empty" meant them. It filters by the
    state the list shows, drifted or cleared."""
    found = timezone.now()
    for external_id, cleared_at in (("acme", None), ("globex", found)):
        tenant = TenantFactory(
            external_id=external_id, status="active", integration_id=f"int-{external_id}"
        )
        Drift.objects.create(
            tenant=tenant,
            version=tenant.template_version,
            found_at=found,
            last_seen_at=found,
            cleared_at=cleared_at,
            changes=[],
        )

    page = admin_client.get("/admin/provisioning/drift/").content.decode()
    drifted = admin_client.get("/admin/provisioning/drift/?state=drifted").content.decode()
    cleared = admin_client.get("/admin/provisioning/drift/?state=cleared").content.decode()

    assert "By state" in page and "By cleared at" not in page
    assert ">Drifted</a>" in page and ">Cleared</a>" in page
    assert "(acme)" in drifted and "(globex)" not in drifted
    assert "(globex)" in cleared and "(acme)" not in cleared


def test_deprovisioning_a_tenant_deprovisioned_already_does_not_say_it_queued_it(admin_client):
    """Chosen with tenants deprovisioned already, the action asked about them too and then
    said "Queued deprovisioning for 2 tenants (acme, gone)", though nothing was queued for
    `gone`: it asks only about the others, and says that it leaves `gone` as it is."""
    acme = TenantFactory(external_id="acme", status="active")
    gone = TenantFactory(external_id="gone", status="deprovisioned")
    chosen = {"action": "request_deprovision", "_selected_action": [acme.pk, gone.pk]}

    asked = admin_client.post("/admin/tenants/tenant/", chosen)
    done = admin_client.post(
        "/admin/tenants/tenant/",
        {**chosen, "_selected_action": [acme.pk], "post": "yes"},  # what its page posts
        follow=True,
    )
    only_gone = admin_client.post(
        "/admin/tenants/tenant/", {**chosen, "_selected_action": [gone.pk]}, follow=True
    )

    html = asked.content.decode()
    assert "Deprovision 1 tenant?" in html and ">acme</a>" in html and ">gone</a>" not in html
    assert [str(m) for m in asked.context["messages"]] == [
        "Not deprovisioned again: gone is deprovisioned already."
    ]
    assert [str(m) for m in done.context["messages"]] == ["Queued deprovisioning for acme."]
    assert [str(m) for m in only_gone.context["messages"]] == [
        "Not deprovisioned again: gone is deprovisioned already."
    ]
    assert "Deprovision 1 tenant?" not in only_gone.content.decode()
    assert list(Job.objects.values_list("tenant__external_id", flat=True)) == ["acme"]


def _tenant_page_form(tenant, **fields) -> dict:
    return {
        "name": tenant.name,
        "settings": "{}",
        "allowed_origins": "[]",
        "connections-TOTAL_FORMS": "0",
        "connections-INITIAL_FORMS": "0",
        "jobs-TOTAL_FORMS": "0",
        "jobs-INITIAL_FORMS": "0",
        **fields,
    }


def test_new_settings_saved_on_a_live_tenants_page_queue_the_job_that_applies_them(admin_client):
    """An administrator's settings saved on the tenant's page were stored and recorded, but
    no update_settings job was queued (as the API and the integration page queue one): the
    integration in integrator.io kept the old settings, with no word of it on the page."""
    tenant = TenantFactory(external_id="acme", status="active", integration_id="int-acme")

    response = admin_client.post(
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        _tenant_page_form(tenant, settings='{"sync_interval_minutes": 60}'),
        follow=True,
    )

    assert response.status_code == 200
    job = Job.objects.get(tenant=tenant)
    assert (job.kind, job.status, job.requested_by) == (
        JobKind.UPDATE_SETTINGS,
        JobStatus.QUEUED,
        JobOrigin.ADMIN,
    )
    html = response.content.decode()
    assert f"Queued a settings update (job {str(job.pk)[:8]})" in html
    # One change, one event: the job is part of the tenant.update (docs/audit.md).
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["tenant.update"]


def test_a_name_saved_on_a_live_tenants_page_queues_no_job(admin_client):
    tenant = TenantFactory(external_id="acme", status="active", integration_id="int-acme")

    response = admin_client.post(
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        _tenant_page_form(tenant, name="Acme Renamed"),
    )

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "Acme Renamed" and not Job.objects.filter(tenant=tenant).exists()


def test_settings_a_tenant_cannot_take_now_are_refused_on_its_page_and_not_saved(admin_client):
    """The API refuses (409) settings for a live integration that no job may apply now: the
    page says why, in the service's words, and keeps the old settings rather than storing
    ones integrator.io would never get."""
    tenant = TenantFactory(external_id="acme", status="active", integration_id="int-acme")
    job_request(tenant=tenant, kind=JobKind.REPAIR, requested_by=JobOrigin.API)
    Tenant.objects.filter(pk=tenant.pk).update(status="provisioning")
    Job.objects.filter(tenant=tenant).update(status=JobStatus.SUCCEEDED)

    response = admin_client.post(
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        _tenant_page_form(tenant, settings='{"sync_interval_minutes": 60}'),
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: " in html and "was changed successfully" not in html
    tenant.refresh_from_db()
    assert tenant.settings == {}


def test_provision_and_repair_refusals_speak_to_ops_with_the_tenants_values(admin_client):
    """Provision or Repair refused in the admin: the warning gave the API's message, with its
    placeholders ("PUT /api/v1/tenants/{external_id}/connections/{slot}") and the raw status
    ("The tenant is awaiting_credentials"). It says it in words, with the status as the admin
    shows it and the slots that do not work yet; the API keeps its own documented message."""
    waiting = TenantFactory(external_id="acme")
    active = TenantFactory(external_id="globex", status="active", integration_id="int-globex")

    repaired = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_repair", "_selected_action": [waiting.pk]},
        follow=True,
    )
    provisioned = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_provision", "_selected_action": [waiting.pk, active.pk]},
        follow=True,
    )

    said = [str(m) for r in (repaired, provisioned) for m in r.context["messages"]]
    assert len(said) == 3, said
    for text in said:
        assert "{" not in text and "/api/v1" not in text, text
        assert "awaiting_credentials" not in text and "The tenant" not in text, text
    [repair] = [text for text in said if "a repair" in text]
    assert repair.startswith(
        "Did not queue a repair for acme: it is Awaiting credentials, so it has no "
        "integration to repair yet."
    )
    [missing] = [text for text in said if "provisioning for acme" in text]
    assert missing.startswith(
        "Did not queue provisioning for acme: it has no working connection yet for erp and shop."
    )
    [live] = [text for text in said if "globex" in text]
    assert live.startswith(
        "Did not queue provisioning for globex: it is Active, so it has its integration "
        "already; choose Repair the selected tenants' integrations instead."
    )
    assert not Job.objects.exists()


def test_a_tenant_action_refused_for_a_job_under_way_names_that_job(admin_client):
    """The API's "The tenant already has a upgrade job (running); retry when it has
    finished." named the job by its raw kind and status; the admin names it as its job list
    does."""
    tenant = TenantFactory(external_id="acme", status="active", integration_id="int-acme")
    running = Job.objects.create(
        tenant=tenant,
        kind=JobKind.UPGRADE,
        status=JobStatus.RUNNING,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
        target_version=tenant.template_version,
    )
    Tenant.objects.filter(pk=tenant.pk).update(latest_job=running)

    response = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_repair", "_selected_action": [tenant.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        f"Did not queue a repair for acme: it has a job under way (Change version, Running, "
        f"job {str(running.pk)[:8]}); select it again once that job has finished."
    ]


def test_a_tenant_never_checked_for_drift_is_not_said_to_be_in_sync(admin_client):
    """The tenant page's drift said "in sync (not checked yet)" of a tenant no check had
    looked at, even one awaiting credentials with no integration to compare: a green "in
    sync" that nothing had found. It says that it is not checked yet, and why, with no badge
    of a result; once checked and found the same, it says in sync."""
    waiting = TenantFactory(external_id="acme")
    live = TenantFactory(external_id="globex", status="active", integration_id="int-globex")

    waiting_html = admin_client.get(f"/admin/tenants/tenant/{waiting.pk}/change/").content.decode()
    live_html = admin_client.get(f"/admin/tenants/tenant/{live.pk}/change/").content.decode()
    DriftCheck.objects.create(tenant=live, checked_at=timezone.now())
    checked_html = admin_client.get(f"/admin/tenants/tenant/{live.pk}/change/").content.decode()

    assert ">in sync<" not in waiting_html and ">in sync<" not in live_html
    assert "Not checked: it has no integration in integrator.io yet." in waiting_html
    assert "Not checked yet: the periodic drift check has not reached it." in live_html
    assert ">in sync<" in checked_html and "last checked" in checked_html
    Tenant.objects.filter(pk=live.pk).update(status="deprovisioned", integration_id="")
    gone_html = admin_client.get(f"/admin/tenants/tenant/{live.pk}/change/").content.decode()
    assert ">in sync<" not in gone_html
    assert "Not checked: it is Deprovisioned; its integration is gone." in gone_html


def test_the_drift_section_writes_its_dates_as_the_rest_of_the_tenants_page(admin_client):
    """The drift section said "since 2026-12-02 16:00 (last checked 2026-12-02 16:10)" beside
    "Status changed at: Dec. 2, 2026, 4 p.m." and "Runs last synced: Dec. 2, 2026, 4:09 p.m."
    on the same page: two ways of writing a moment, one of them without its zone."""
    live = TenantFactory(external_id="globex", status="active", integration_id="int-globex")
    found = timezone.now().replace(hour=16, minute=0, second=0, microsecond=0)
    checked = found.replace(minute=10)
    DriftCheck.objects.create(tenant=live, checked_at=checked)
    Drift.objects.create(
        tenant=live,
        version=live.template_version,
        found_at=found,
        last_seen_at=checked,
        changes=[{"change": "UpdateFlow", "reason": "Update flow 'Orders': set schedule."}],
    )

    page = admin_client.get(f"/admin/tenants/tenant/{live.pk}/change/").content.decode()

    shown = {m: formats.localize(timezone.localtime(m)) for m in (found, checked)}
    assert f"since {shown[found]} (last checked {shown[checked]})" in page
    section = page.split("Version and drift", 1)[1].split("</fieldset>", 1)[0]
    assert not re.search(r"\d{4}-\d\d-\d\d", section)


@pytest.mark.parametrize(
    ("newer_status", "said"),
    [
        (
            JobStatus.RUNNING,
            "its tenant has a newer job under way (Update settings, Running, job {newer}), "
            "and only a tenant's latest job can be retried; once that one has finished, "
            "queue a new Provision from the tenants' list if it is still needed.",
        ),
        (
            JobStatus.FAILED,
            "its tenant has a newer job (Update settings, Failed, job {newer}), and only a "
            "tenant's latest job can be retried: retry that one instead.",
        ),
    ],
)
def test_a_retry_refused_for_a_newer_job_says_so_in_the_admins_words(
    admin_client, newer_status, said
):
    """It gave the service's words: 'A newer job of this tenant (update_settings <uuid>,
    running) …', a raw kind and status and a full job id."""
    tenant = TenantFactory(external_id="acme")
    older = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        status=JobStatus.FAILED,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
    )
    newer = Job.objects.create(
        tenant=tenant,
        kind=JobKind.UPDATE_SETTINGS,
        status=newer_status,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
    )

    html = unescape(
        admin_client.post(
            "/admin/provisioning/job/",
            {"action": "retry_jobs", "_selected_action": [older.pk]},
            follow=True,
        ).content.decode()
    )

    assert f"Not retried: job {str(older.pk)[:8]} (Provision of acme): " in html
    assert said.format(newer=str(newer.pk)[:8]) in html
    [messages] = re.findall(r'<ul class="messagelist">.*?</ul>', html, re.S)
    assert str(newer.pk) not in messages and "update_settings" not in messages


def test_the_job_page_says_a_call_had_no_answer_and_why(admin_client):
    # A call that got no response showed "-" as its status beside "circuit_open": ops read
    # the dash as a page that failed to load a value, not as "nothing came back".
    tenant = TenantFactory(external_id="acme")
    job = _job_with_step_output(tenant)
    step = job.steps.get()
    for status, code in ((None, "circuit_open"), (None, "read_timeout"), (201, "")):
        ApiCall.objects.create(
            job=job,
            step=step,
            method="POST",
            path="/v1/integrations/x/clone",
            status=status,
            duration_ms=1.0,
            attempt=1,
            error_code=code,
        )

    page = unescape(admin_client.get(f"/admin/provisioning/job/{job.pk}/change/").content.decode())

    assert "no answer (circuit_open: not sent, the circuit breaker was open)" in page
    assert "no answer (read_timeout)" in page
    assert ">201<" in page

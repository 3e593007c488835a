"""Ops pages: runs across tenants, flows, and health on the tenant list and page."""

import pytest
from django.utils import formats, timezone

from runs.account_sync import runs_sync_account
from runs.models import FlowRun, RunStatus, SyncState, TenantFlow, TenantHealth
from runs.sync import tenant_runs_sync
from tenants.models import TenantStatus
from tests.fixtures.factories import TenantFactory
from tests.fixtures.live_tenants import run_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(account, make_tenant, runs_client):
    acme = make_tenant("acme")
    run_flow(account, acme.flow_ids[0], ["failed", "partial"])
    run_flow(account, acme.flow_ids[0])
    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)
    return acme


def test_the_tenant_list_has_a_health_column_and_filter(admin_client, synced, make_tenant):
    make_tenant("globex")  # never synced: unknown

    healthy = admin_client.get("/admin/tenants/tenant/", {"health": "healthy"})
    unknown = admin_client.get("/admin/tenants/tenant/", {"health": "unknown"})

    assert healthy.status_code == 200
    assert ">Healthy<" in healthy.content.decode()
    assert '<span class="cell-note">1 failed/24h</span>' in healthy.content.decode()
    assert "acme" in healthy.content.decode() and "globex" not in healthy.content.decode()
    assert "globex" in unknown.content.decode() and ">acme<" not in unknown.content.decode()


def test_the_tenant_page_shows_health_flows_and_latest_runs(admin_client, synced):
    page = admin_client.get(f"/admin/tenants/tenant/{synced.pk}/change/").content.decode()

    assert "Runs and health" in page
    assert "2 runs in the last 24 h, 1 failed" in page
    assert "Completed with errors" in page
    assert "Failed" in page
    assert page.count("/admin/runs/flowrun/") >= 2


def test_the_runs_list_filters_failures_and_a_failed_run_shows_its_errors(admin_client, synced):
    failed = FlowRun.objects.get(status=RunStatus.FAILED)

    listing = admin_client.get("/admin/runs/flowrun/", {"outcome": "failed_24h"}).content.decode()
    detail = admin_client.get(f"/admin/runs/flowrun/{failed.pk}/change/").content.decode()

    assert "1 flow run" in listing
    assert "export step failed" in detail


def test_run_now_from_the_flows_list(admin_client, synced, account):
    flow = synced.tenant.flows.get(flow_id=synced.flow_ids[1])

    response = admin_client.post(
        "/admin/runs/tenantflow/",
        {"action": "run_now", "_selected_action": [flow.pk]},
        follow=True,
    )

    assert f"Started “{flow.name}” of acme (run " in response.content.decode()
    assert FlowRun.objects.filter(flow_id=flow.flow_id).count() == 1


# --- health as the admin shows it, flows, and "Run now" ------------------------------------


def _tenant_with_health(external_id, tenant_status, *, health_status, ran=True, last_error=""):
    tenant = TenantFactory(external_id=external_id, status=tenant_status, last_error=last_error)
    TenantHealth.objects.create(
        tenant=tenant,
        status=health_status,
        reasons=[],
        last_run_at=timezone.now() if ran else None,
        runs_24h=1 if ran else 0,
        computed_at=timezone.now(),
    )
    return tenant


def _row(html: str, external_id: str) -> str:
    """The tenant list's row of one tenant."""
    rows = [row for row in html.split("<tr") if f">{external_id}<" in row]
    assert len(rows) == 1, external_id
    return rows[0]


def test_health_is_unknown_until_a_run_finished_and_unhealthy_beside_a_degraded_tenant(
    admin_client,
):
    # Rows stored before the health rules were fixed, or before the tenant's status moved.
    _tenant_with_health("no-runs", TenantStatus.ACTIVE, health_status="healthy", ran=False)
    _tenant_with_health(
        "degraded",
        TenantStatus.DEGRADED,
        health_status="healthy",
        last_error="The repair job failed at step wire.",
    )
    _tenant_with_health("gone", TenantStatus.DEPROVISIONED, health_status="healthy")
    _tenant_with_health("fine", TenantStatus.ACTIVE, health_status="healthy")

    listing = admin_client.get("/admin/tenants/tenant/").content.decode()
    healthy = admin_client.get("/admin/tenants/tenant/", {"health": "healthy"}).content.decode()
    unhealthy = admin_client.get("/admin/tenants/tenant/", {"health": "unhealthy"}).content
    unknown = admin_client.get("/admin/tenants/tenant/", {"health": "unknown"}).content.decode()

    assert ">Unknown<" in _row(listing, "no-runs")
    assert ">Unhealthy<" in _row(listing, "degraded")
    assert ">Unknown<" in _row(listing, "gone")
    assert ">Healthy<" in _row(listing, "fine")
    assert ">fine<" in healthy and ">no-runs<" not in healthy and ">degraded<" not in healthy
    assert b">degraded<" in unhealthy and b">fine<" not in unhealthy
    assert ">no-runs<" in unknown and ">gone<" in unknown and ">fine<" not in unknown


def test_the_tenant_page_shows_health_with_its_reasons_as_html(admin_client):
    no_runs = _tenant_with_health(
        "no-runs", TenantStatus.ACTIVE, health_status="healthy", ran=False
    )
    degraded = _tenant_with_health(
        "degraded",
        TenantStatus.DEGRADED,
        health_status="healthy",
        last_error="The repair job failed at step wire.",
    )

    quiet = admin_client.get(f"/admin/tenants/tenant/{no_runs.pk}/change/").content.decode()
    page = admin_client.get(f"/admin/tenants/tenant/{degraded.pk}/change/").content.decode()

    for html in (quiet, page):
        assert "&lt;br&gt;" not in html and "&amp;bull;" not in html
    assert ">Unknown<" in quiet and ">Healthy<" not in quiet
    assert "<li>No run of the integration has finished yet.</li>" in quiet
    assert ">Unhealthy<" in page
    assert "<li>The repair job failed at step wire.</li>" in page


def _flow(tenant, name, *, disabled):
    return TenantFlow.objects.create(
        tenant=tenant,
        flow_id=f"f{name.lower()}".ljust(24, "0"),
        name=name,
        disabled=disabled,
        refreshed_at=timezone.now(),
    )


def test_the_flows_list_says_enabled_with_the_matching_icon(admin_client):
    tenant = TenantFactory(external_id="acme", status=TenantStatus.ACTIVE)
    _flow(tenant, "Orders", disabled=False)
    _flow(tenant, "Stock", disabled=True)

    html = admin_client.get("/admin/runs/tenantflow/").content.decode()

    assert ">Enabled<" in html and ">Disabled<" not in html
    assert "icon-yes.svg" in _row(html, "Orders") and "icon-no" not in _row(html, "Orders")
    assert "icon-no.svg" in _row(html, "Stock") and "icon-yes" not in _row(html, "Stock")


def test_a_flow_page_is_read_only_even_for_an_administrator(administrator_admin):
    """A flow is integrator.io's, mirrored: it is switched on and off through the tenant's
    settings (the flow switch), which the job carries to integrator.io and the audit log
    records. A hand edit of the mirror would do neither."""
    tenant = TenantFactory(external_id="acme", status=TenantStatus.ACTIVE)
    stock = _flow(tenant, "Stock", disabled=True)
    url = f"/admin/runs/tenantflow/{stock.pk}/change/"

    page = administrator_admin.get(url).content.decode()
    response = administrator_admin.post(url, {"source_id": "5eed", "_save": "Save"})

    stock.refresh_from_db()
    assert 'name="_save"' not in page and 'name="disabled"' not in page
    assert response.status_code == 403
    assert (stock.disabled, stock.source_id) == (True, "")


def test_run_now_refuses_a_disabled_flow_and_says_so(admin_client):
    tenant = TenantFactory(external_id="acme", status=TenantStatus.ACTIVE)
    stock = _flow(tenant, "Stock", disabled=True)

    response = admin_client.post(
        "/admin/runs/tenantflow/",
        {"action": "run_now", "_selected_action": [stock.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert "Not started: “Stock” of acme: The flow &#x27;Stock&#x27; is disabled" in html
    assert FlowRun.objects.count() == 0


def test_the_account_sync_cursor_is_shown_read_only(admin_client, synced, runs_client):
    runs_sync_account(runs_client, "default")

    page = admin_client.get("/admin/runs/runsynccursor/").content.decode()

    assert "default" in page
    assert admin_client.get("/admin/runs/runsynccursor/add/").status_code == 403


def test_the_tenant_page_writes_its_times_as_the_admin_does_without_a_double_full_stop(
    admin_client,
):
    # An afternoon time: the admin's format ends it with "p.m.", which a full stop doubled.
    afternoon = timezone.now().replace(hour=17, minute=52, second=8, microsecond=408000)
    tenant = _tenant_with_health("acme", TenantStatus.ACTIVE, health_status="healthy")
    TenantHealth.objects.filter(tenant=tenant).update(last_success_at=afternoon)
    SyncState.objects.create(
        tenant=tenant,
        next_sync_at=afternoon,
        next_check_at=afternoon,
        last_synced_at=afternoon,
        last_attempt_at=afternoon,
    )
    flow = _flow(tenant, "Orders", disabled=False)
    FlowRun.objects.create(
        tenant=tenant,
        job_id="job-1",
        flow_id=flow.flow_id,
        status=RunStatus.COMPLETED,
        created_at=afternoon,
        synced_at=afternoon,
    )

    html = admin_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()

    shown = formats.localize(timezone.localtime(afternoon))  # as the admin's other dates
    assert shown.endswith("p.m.")
    assert "p.m.." not in html
    assert f"Last success: {shown}" in html and f"Runs last synced: {shown}" in html
    # The Flows and Latest runs tables: no raw timestamp, the admin's format (twice).
    assert str(afternoon) not in html and "17:52:08" not in html
    assert html.count(f">{shown}<") >= 2


def test_run_now_for_many_flows_says_each_reason_once_naming_the_flows(admin_client):
    """Run now chosen for a tenant's flows while it waits for credentials: one warning that
    names a few flows and counts the rest, as the tenant actions do, not one per flow; with
    the tenant's status as its page shows it, not the API's "awaiting_credentials"."""
    tenant = TenantFactory(external_id="acme", status=TenantStatus.AWAITING_CREDENTIALS)
    flows = [_flow(tenant, f"Orders{n}", disabled=False) for n in range(7)]

    response = admin_client.post(
        "/admin/runs/tenantflow/",
        {"action": "run_now", "_selected_action": [flow.pk for flow in flows]},
        follow=True,
    )

    warnings = [str(message) for message in response.context["messages"]]
    assert warnings == [
        "Not started: 7 flows (“Orders0” of acme, “Orders1” of acme, “Orders2” of acme, "
        "“Orders3” of acme, “Orders4” of acme and 2 more): its tenant is Awaiting credentials; "
        "its flows run once it is Active or Degraded."
    ]
    assert FlowRun.objects.count() == 0


@pytest.mark.parametrize("status", [TenantStatus.ACTIVE, TenantStatus.DEGRADED])
def test_run_now_for_a_live_tenant_without_an_integration_says_so(admin_client, status):
    """An active or degraded tenant with no integration: the warning said "The tenant is
    degraded; its flows run once it is active or degraded", which it already is."""
    tenant = TenantFactory(external_id="acme", status=status, integration_id="")
    flow = _flow(tenant, "Orders", disabled=False)

    response = admin_client.post(
        "/admin/runs/tenantflow/",
        {"action": "run_now", "_selected_action": [flow.pk]},
        follow=True,
    )

    warnings = [str(message) for message in response.context["messages"]]
    assert warnings == [
        f"Not started: “Orders” of acme: its tenant is {status.label} but has no integration "
        "in integrator.io yet; its flows run once a repair makes one."
    ]
    assert "once it is active or degraded" not in warnings[0]
    assert FlowRun.objects.count() == 0


def test_run_now_for_a_deprovisioned_tenants_flows_says_the_tenant_is_gone(admin_client):
    """Its flows are marked removed when it goes: the warning said "It is no longer in the
    integration.", as of a flow taken out of a live tenant's integration; it says what the API
    says (tenant_deprovisioned)."""
    tenant = TenantFactory(external_id="gone", status=TenantStatus.DEPROVISIONED, integration_id="")
    flow = _flow(tenant, "Orders", disabled=False)
    TenantFlow.objects.filter(pk=flow.pk).update(removed_at=timezone.now())

    response = admin_client.post(
        "/admin/runs/tenantflow/",
        {"action": "run_now", "_selected_action": [flow.pk]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == [
        "Not started: “Orders” of gone: its tenant is Deprovisioned; its flows no longer run."
    ]


def test_a_flow_runs_page_offers_no_save_as_nothing_on_it_can_change(admin_client, synced):
    """Every field of a run is read only (it is what integrator.io reported), yet its page
    showed Save and "Save and continue editing", which saved nothing; it shows neither, as an
    audit event's page does, and a post is refused."""
    run = FlowRun.objects.get(status=RunStatus.FAILED)
    url = f"/admin/runs/flowrun/{run.pk}/change/"

    page = admin_client.get(url)
    posted = admin_client.post(url, {})

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "export step failed" in html  # still shown, read only
    assert posted.status_code == 403


def test_a_waiting_tenants_health_says_its_status_as_the_admin_shows_it(admin_client):
    """The tenant page's health (and the list's health badge, on hover) said "The tenant is
    awaiting_credentials: its integration is not live.", the API's raw value, beside the
    status badge "Awaiting credentials"."""
    tenant = TenantFactory(external_id="acme", status=TenantStatus.AWAITING_CREDENTIALS)

    page = admin_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    listing = admin_client.get("/admin/tenants/tenant/").content.decode()

    for html in (page, listing):
        assert "is awaiting_credentials" not in html
        assert "The tenant is Awaiting credentials: its integration is not live." in html


def test_a_tenant_without_flows_says_why_rather_than_not_yet(admin_client):
    """'Flows: No flows listed yet.' was said of a deprovisioned tenant, of one whose building
    failed before it had an integration, and of one whose flows were all deleted in
    integrator.io: none of them is about to list any."""
    gone = TenantFactory(external_id="gone", status=TenantStatus.DEPROVISIONED)
    failed = TenantFactory(external_id="failed", status=TenantStatus.FAILED, integration_id="")
    emptied = TenantFactory(
        external_id="emptied", status=TenantStatus.DEGRADED, integration_id="int-emptied"
    )
    TenantFlow.objects.filter(pk=_flow(emptied, "Orders", disabled=False).pk).update(
        removed_at=timezone.now()
    )
    fresh = TenantFactory(external_id="fresh", status=TenantStatus.ACTIVE, integration_id="int-f")

    def flows(tenant):
        page = admin_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
        return page.split("field-flows_summary", 1)[1].split("field-latest_runs", 1)[0]

    assert "None: it is Deprovisioned; its integration is gone." in flows(gone)
    assert "None: it has no integration in integrator.io." in flows(failed)
    assert "None: the integration has none left (removed: Orders)." in flows(emptied)
    assert "No flows listed yet." in flows(fresh)


def test_the_flows_list_filters_by_whether_a_flow_is_still_in_its_integration(admin_client):
    """The filter read 'By removed at: Empty / Not empty', Django's words for a date column:
    'Empty' was the flows still in their integrations, which nobody could guess."""
    tenant = TenantFactory(external_id="acme", status=TenantStatus.ACTIVE)
    _flow(tenant, "Orders", disabled=False)
    TenantFlow.objects.filter(pk=_flow(tenant, "Stock", disabled=False).pk).update(
        removed_at=timezone.now()
    )

    listing = admin_client.get("/admin/runs/tenantflow/").content.decode()
    present = admin_client.get("/admin/runs/tenantflow/", {"removed": "no"}).content.decode()
    removed = admin_client.get("/admin/runs/tenantflow/", {"removed": "yes"}).content.decode()

    assert "By removal" in listing
    assert "In the integration now" in listing and "Removed from it" in listing
    assert ">Empty<" not in listing and ">Not empty<" not in listing
    assert "Orders" in present and "Stock" not in present
    assert "Stock" in removed and "Orders" not in removed


def test_the_runs_list_and_a_runs_page_name_their_counts_in_words(admin_client, synced):
    """The runs list's columns read 'Num success', 'Num error', 'Num ignore' (the fields'
    names), where the tenant page's latest runs say 'Success', 'Errors', 'Ignored' of the same
    counts; a run's page added 'Num resolved', 'Num export' and 'Num pages'."""
    run = FlowRun.objects.filter(tenant=synced.tenant).first()

    listing = admin_client.get("/admin/runs/flowrun/").content.decode()
    page = admin_client.get(f"/admin/runs/flowrun/{run.pk}/change/").content.decode()

    assert "Num " not in listing and "Num " not in page
    for header in ("Success", "Errors", "Ignored"):
        assert f">{header}</a>" in listing
    for label in ("Success", "Errors", "Ignored", "Resolved", "Exported", "Pages"):
        assert f"<label>{label}:</label>" in page

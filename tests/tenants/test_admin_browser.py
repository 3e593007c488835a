"""The tenant list in a real browser at 1280 px, the width of a common laptop screen: every
column fits, with no horizontal scrolling. A screenshot goes to test-output/admin/."""

import contextlib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import sync_playwright

from provisioning.models import Job, JobKind, JobStatus
from runs.models import HealthStatus, TenantHealth
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tests.fixtures.browser import launch, screenshots_dir
from tests.fixtures.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAMES = [
    ("acme-corporation-emea-0042", "Acme Corporation (EMEA)", TenantStatus.ACTIVE),
    ("globex-international-7731", "Globex International Holdings", TenantStatus.DEGRADED),
    ("initech-software-us-east", "Initech Software", TenantStatus.AWAITING_CREDENTIALS),
    ("umbrella-pharma-0099", "Umbrella Pharmaceuticals", TenantStatus.DEPROVISIONING),
    ("hooli-xyz-platform", "Hooli XYZ", TenantStatus.PROVISIONING),
]


@pytest.fixture
def admin_session(live_server):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-for-tests")
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


@pytest.fixture
def tenants():
    for external_id, name, status in LONG_NAMES:
        tenant = TenantFactory(external_id=external_id, name=name, status=status)
        TenantConnection.objects.filter(tenant=tenant, slot_key="shop").update(
            status=ConnectionStatus.OK
        )
        job = Job.objects.create(
            tenant=tenant,
            kind=JobKind.UPDATE_SETTINGS,
            status=JobStatus.SUCCEEDED,
            requested_by="api",
            due_at=timezone.now(),
        )
        type(tenant).objects.filter(pk=tenant.pk).update(latest_job=job)
        TenantHealth.objects.create(
            tenant=tenant,
            status=HealthStatus.HEALTHY,
            last_run_at=timezone.now(),
            failed_runs_24h=12,
            computed_at=timezone.now(),
        )


@contextlib.contextmanager
def admin_page(session, *, height=800):
    """A page of a fresh Chromium, 1280 px wide, logged in to the admin."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": height})
        context.add_cookies([session])
        yield context.new_page()
        browser.close()


def test_the_tenant_list_fits_1280_px_without_scrolling(live_server, admin_session, tenants):
    shots = screenshots_dir("admin")
    with admin_page(admin_session) as page:
        page.goto(f"{live_server.url}/admin/tenants/tenant/")
        page.screenshot(path=shots / "tenant-list-1280.png", full_page=True)
        overflow = page.evaluate(
            """() => {
              const results = document.querySelector("#changelist .results");
              return {
                results: results.scrollWidth - results.clientWidth,
                page: document.documentElement.scrollWidth - window.innerWidth,
              };
            }"""
        )
        headers = page.locator("#result_list thead th").all_inner_texts()

    assert overflow == {"results": 0, "page": 0}
    assert [h.strip().lower() for h in headers if h.strip()] == [
        "tenant",
        "status",
        "connections",
        "last job",
        "health",
    ]


def test_the_tenant_job_and_revoke_pages_read_well(live_server, admin_session, tenants):
    from provisioning.models import JobStep
    from tenants.models import Tenant

    degraded = Tenant.objects.get(external_id="globex-international-7731")
    Tenant.objects.filter(pk=degraded.pk).update(last_error="The repair job failed at wire.")
    job = Job.objects.filter(tenant=degraded).get()
    JobStep.objects.create(
        job=job,
        name="settings",
        position=0,
        status="succeeded",
        output={"applied": {"store_id": "default", "flows": {"orders": True, "stock": False}}},
    )
    link = connect_link_create(tenant=degraded).link
    shots = screenshots_dir("admin")
    with admin_page(admin_session, height=900) as page:
        page.goto(f"{live_server.url}/admin/tenants/tenant/{degraded.pk}/change/")
        page.get_by_role("heading", name="Runs and health").scroll_into_view_if_needed()
        page.screenshot(path=shots / "tenant-page-health-1280.png")
        health = page.locator(".field-health_summary").inner_text()
        page.goto(f"{live_server.url}/admin/provisioning/job/{job.pk}/change/")
        page.screenshot(path=shots / "job-page-1280.png", full_page=True)
        save_buttons = page.locator("input[name=_save]").count()
        page.goto(f"{live_server.url}/admin/tenants/connectlink/")
        page.locator(f"input[name=_selected_action][value='{link.pk}']").check()
        page.select_option("select[name=action]", "revoke")
        page.get_by_role("button", name="Go").click()
        # The click navigates: the screenshot waits for the confirmation page to be there.
        page.get_by_role("heading", name="Revoke 1 connect link?").wait_for()
        page.wait_for_load_state("load")
        page.screenshot(path=shots / "revoke-confirmation-1280.png")
        question = page.locator("h1").inner_text()

    assert "Unhealthy" in health and "The repair job failed at wire." in health
    assert "<br>" not in health
    assert save_buttons == 0
    assert question == "Revoke 1 connect link?"


# The longest values the API accepts, without a space to break at: an external id of 128
# characters, a name of 200.
LONG_ID = "x" * 128
LONG_NAME = ("AcmeCorporationInternationalHoldings" * 6)[:200]
COMMON = ("globex-international-7731", "Globex International Holdings")


@pytest.fixture
def long_and_common_tenants():
    tenants = {}
    for external_id, name in [(LONG_ID, LONG_NAME), COMMON]:
        tenant = TenantFactory(external_id=external_id, name=name)
        job = Job.objects.create(
            tenant=tenant,
            kind=JobKind.UPDATE_SETTINGS,
            status=JobStatus.FAILED,
            requested_by="api",
            due_at=timezone.now(),
            error_message="integrator.io refused the call: " + "z" * 300,
        )
        type(tenant).objects.filter(pk=tenant.pk).update(latest_job=job)
        connect_link_create(tenant=tenant)
        tenants[external_id] = tenant
    return tenants


def tenant_column_width(page, url: str) -> float:
    page.goto(url)
    return page.evaluate(
        # `tenant`, or `tenant_shown` where the list names the incarnation too
        "document.querySelector('#result_list thead :is(th.column-tenant, th.column-tenant_shown)')"
        ".getBoundingClientRect().width"
    )


def column_cap(page) -> float:
    """The widest a list's cell may be (its max-width and padding): what is longer is cut."""
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.querySelector("#result_list tbody td"));
          return parseFloat(style.maxWidth) + parseFloat(style.paddingLeft)
            + parseFloat(style.paddingRight);
        }"""
    )


def test_long_values_wrap_or_are_cut_short_within_1280_px(
    live_server, admin_session, long_and_common_tenants
):
    long_tenant = long_and_common_tenants[LONG_ID]
    shots = screenshots_dir("admin")
    base = live_server.url
    with admin_page(admin_session) as page:
        page.goto(f"{base}/admin/tenants/tenant/?q={LONG_ID}")
        page.screenshot(path=shots / "tenant-list-long-values-1280.png", full_page=True)
        tenant_list = page.evaluate(
            """() => {
              const results = document.querySelector("#changelist .results");
              return results.scrollWidth - results.clientWidth;
            }"""
        )
        page.goto(f"{base}/admin/tenants/tenant/{long_tenant.pk}/change/")
        page.screenshot(path=shots / "tenant-page-long-values-1280.png", full_page=True)
        tenant_page = page.evaluate(
            """() => {
              const value = document.querySelector(".field-external_id div.readonly");
              return {
                page: document.documentElement.scrollWidth - window.innerWidth,
                // all of it in sight: not past the window, not cut off by its row
                value: Math.max(0, value.getBoundingClientRect().right - window.innerWidth,
                                value.scrollWidth - value.clientWidth),
                save: document.querySelector("input[name=_save]").getBoundingClientRect().right
                      <= window.innerWidth,
              };
            }"""
        )
        # The lists that name the tenant in a column of their own: with the long tenant its
        # column is no wider than with a common name (the long one cut short, its row a link to
        # the page that shows all of it).
        widths = {
            path: (
                tenant_column_width(page, f"{base}{path}?q={LONG_ID}"),
                tenant_column_width(page, f"{base}{path}?q={COMMON[0]}"),
            )
            for path in ["/admin/provisioning/job/", "/admin/tenants/connectlink/"]
        }
        cap = column_cap(page)

    # The results scrolled sideways, the tenant's status and jobs out of sight; the tenant's
    # page was 1,600 px wider than the window, its external id cut off at the edge.
    assert tenant_list == 0
    assert tenant_page == {"page": 0, "value": 0, "save": True}
    # (A common name wraps at its spaces, narrower than the widest a column may be.)
    for path, (long_width, common_width) in widths.items():
        assert long_width <= max(common_width + 20, cap + 1), (path, long_width, common_width)


ERROR = (
    "integrator.io refused the call POST https://api.integrator.io/v1/integrations/"
    "5eed00000000000000000a01/clone: 422 Unprocessable Entity: the connection "
    "64f1c2d9e8b7a6f5e4d3c2b1 referenced by export 64f1c2d9e8b7a6f5e4d3c2b2 does not exist"
)
ENDPOINT_URL = (
    "https://hooks.example-host-application.com/integrations/celigo/embedded/events/receiver/"
    "v2/tenant-notifications?source=eis&region=eu-central-1"
)


@pytest.fixture
def everyday_rows():
    """A few tenants with the names, errors and URLs of a real deployment, in every list."""
    from core.models import IntegratorAccount
    from provisioning.models import Drift, Orphan
    from rollouts.models import Rollout, RolloutTenant
    from runs.models import FlowRun, TenantFlow
    from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(
        url=ENDPOINT_URL,
        description="Host app production receiver for tenant lifecycle notifications (EU)",
        secret_salt="s" * 32,
        secret_rotated_at=now,
        previous_secret_salt="p" * 32,
        previous_secret_expires_at=now + timezone.timedelta(hours=1),
    )
    for number in range(3):
        tenant = TenantFactory(
            external_id=f"customer-{number}-northwind-traders-international-emea-division",
            name=f"Northwind Traders International Holdings GmbH & Co. KG - EMEA {number}",
            status=TenantStatus.FAILED,
            last_error=ERROR,
        )
        job = Job.objects.create(
            tenant=tenant,
            kind=JobKind.PROVISION,
            status=JobStatus.FAILED,
            requested_by="api",
            due_at=now,
            attempts=3,
            error_code="integrator_rejected",
            error_message=ERROR,
        )
        flow = TenantFlow.objects.create(
            tenant=tenant,
            flow_id=f"64f1c2d9e8b7a6f5e4d3c2{number:02}",
            name="Shopify Orders to NetSuite Sales Orders (incremental, every 15 minutes)",
            refreshed_at=now,
        )
        FlowRun.objects.create(
            tenant=tenant,
            job_id=f"65a1b2c3d4e5f6a7b8c9d0{number:02}",
            flow_id=flow.flow_id,
            status="failed",
            created_at=now,
            ended_at=now,
            duration_ms=123456,
            num_success=12345,
            num_error=678,
            synced_at=now,
        )
        event = Event.objects.create(
            event_type="tenant.failed", tenant=tenant, tenant_external_id=tenant.external_id
        )
        WebhookDelivery.objects.create(
            event=event,
            endpoint=endpoint,
            status="failed",
            attempts=12,
            next_attempt_at=now,
            last_status_code=502,
            last_error="HTTPSConnectionPool(host='hooks.example-host-application.com'): " * 3,
        )
        Orphan.objects.create(
            account=IntegratorAccount.objects.get(key=tenant.template.account.key),
            kind="integration",
            remote_id=f"64f1c2d9e8b7a6f5e4d3c2{number:02}",
            name=f"Shop -> ERP order sync [eis:k3v9x2m7q1:{tenant.external_id}]",
            tenant=tenant,
            tenant_uid=tenant.uid,
            reason="Its tenant was deprovisioned; deleting it in integrator.io failed: 503",
            first_seen_at=now,
            last_seen_at=now,
        )
        Drift.objects.create(
            tenant=tenant,
            version=tenant.template_version,
            found_at=now,
            last_seen_at=now,
            changes=[{"change": "flow schedule", "reason": "changed in integrator.io"}],
            repair_job=job,
        )
    rollout = Rollout.objects.create(
        template=tenant.template,
        to_version=tenant.template_version,
        strategy="waves",
        wave_percent=25,
        pause_seconds=300,
        max_failure_rate=0.1,
        status="halted",
        halt_reason="Wave 2 failed 3 of 4 tenants: " + ERROR,
        created_by="api key Host app production (EU)",
        wave_count=4,
    )
    RolloutTenant.objects.create(
        rollout=rollout,
        tenant=tenant,
        wave=1,
        from_version=tenant.template_version,
        state="failed",
        error=ERROR,
    )


EVERYDAY_LISTS = [
    "/admin/provisioning/job/",
    "/admin/provisioning/orphan/",
    "/admin/provisioning/drift/",
    "/admin/runs/flowrun/",
    "/admin/runs/tenantflow/",
    "/admin/webhooks/webhookdelivery/",
    "/admin/webhooks/webhookendpoint/",
    "/admin/webhooks/event/",
    "/admin/rollouts/rollout/",
    "/admin/tenants/tenant/",
    "/admin/tenants/integrationtemplate/",
    "/admin/tenants/templateversion/",
    "/admin/audit/auditevent/",
    "/admin/rest_framework_api_key/apikey/",
    "/admin/core/integratoraccount/",
]


def test_every_list_fits_1280_px_and_what_it_cuts_short_has_its_full_value(
    live_server, admin_session, everyday_rows
):
    shots = screenshots_dir("admin")
    found = {}
    with admin_page(admin_session) as page:
        for path in EVERYDAY_LISTS:
            page.goto(f"{live_server.url}{path}")
            page.screenshot(
                path=shots / f"list-{path.strip('/').replace('/', '-')}-1280.png", full_page=True
            )
            found[path] = page.evaluate(
                """() => {
                  const results = document.querySelector("#changelist .results");
                  const cut = [...document.querySelectorAll("#result_list td, #result_list th")]
                    .filter(cell => cell.scrollWidth > cell.clientWidth + 1 && !cell.title)
                    .map(cell => cell.textContent.trim());
                  return {
                    results: results ? results.scrollWidth - results.clientWidth : 0,
                    page: document.documentElement.scrollWidth - window.innerWidth,
                    cut_without_title: cut,
                  };
                }"""
            )

    # The job, run, delivery, orphan and rollout lists scrolled sideways by 100 to 700 px (the
    # model sidebar took 300 px, a tenant's name or a date kept on one line), their last columns
    # out of sight; what an ellipsis cut short could be read nowhere on the list.
    fitting = {"results": 0, "page": 0, "cut_without_title": []}
    assert {path: measured for path, measured in found.items() if measured != fitting} == {}


def test_a_long_name_in_the_page_heading_stays_clear_of_its_history_button(
    live_server, admin_session, long_and_common_tenants
):
    tenant = long_and_common_tenants[COMMON[0]]
    type(tenant).objects.filter(pk=tenant.pk).update(
        name="Northwind Traders International Holdings GmbH & Co. KG - EMEA Division 3",
        external_id="customer-3-northwind-traders-international-emea-division",
    )
    shots = screenshots_dir("admin")
    with admin_page(admin_session) as page:
        page.goto(f"{live_server.url}/admin/tenants/tenant/{tenant.pk}/change/")
        page.screenshot(path=shots / "tenant-page-heading-1280.png")
        overlap = page.evaluate(
            """() => {
              // the heading's text, line by line, not its box (a block the page's width)
              const text = document.createRange();
              text.selectNodeContents(document.querySelector("#content > h2"));
              const tools = document.querySelector(".object-tools").getBoundingClientRect();
              return [...text.getClientRects()].some(line =>
                Math.min(line.right, tools.right) > Math.max(line.left, tools.left)
                && Math.min(line.bottom, tools.bottom) > Math.max(line.top, tools.top));
            }"""
        )

    # The heading ran under the History button, the middle of the tenant's id hidden by it.
    assert overlap is False

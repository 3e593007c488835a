"""The tenant list in a real browser at 1280 px, the width of a common laptop screen: every
column fits, with no horizontal scrolling. A screenshot goes to test-output/admin/."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import sync_playwright

from provisioning.models import Job, JobKind, JobStatus
from runs.models import HealthStatus, TenantHealth
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tests.fixtures.browser import launch, screenshots_dir
from tests.tenants.factories import TenantFactory

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


def test_the_tenant_list_fits_1280_px_without_scrolling(live_server, admin_session, tenants):
    shots = screenshots_dir("admin")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies([admin_session])
        page = context.new_page()
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
        browser.close()

    assert overflow == {"results": 0, "page": 0}
    assert [h.strip().lower() for h in headers if h.strip()] == [
        "tenant",
        "status",
        "connections",
        "last job",
        "health",
    ]

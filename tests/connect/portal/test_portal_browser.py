"""The integration page end to end in a real browser, inside the host app's cross-site iframe.

A tenant of the demo template is provisioned for real (the session's Celery worker against
the sandbox); its orders flow has run with three failed records (the sandbox's
`job_error_records`) and the mirror has synced it. Then, in headless Chromium:

1. the customer changes the sync interval and sees it applied: the sandbox's integration has
   the new value;
2. turns the customers flow off: the sandbox's flow is `disabled`;
3. opens the failed run, retries one error and sees it resolved;
4. walks the page with the keyboard alone and switches a flow on with it;
5. axe-core finds nothing serious or critical on the page or the run page, at desktop and
   phone widths. Screenshots go to test-output/portal/ (git-ignored) for a person to look at.
"""

import json
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from core.accounts import integrator_account_default
from provisioning.models import JobOrigin
from provisioning.services import credentials_submit
from runs.call_budget import CallCounter, build_runs_client
from runs.error_management import error_management_forget
from runs.models import FlowRun, TenantFlow
from runs.sync import tenant_runs_sync
from tenants.connect_links import connect_link_create
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import Tenant, TenantStatus
from tenants.services import template_document_read, template_load, tenant_create
from tests.connect.portal.conftest import CUSTOMERS_SOURCE, ORDERS_SOURCE
from tests.fixtures.browser import DESKTOP, PHONE, axe_violations, launch, screenshots_dir
from tests.fixtures.live_tenants import finish, run_flow, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _live_tenant(sandbox, host_origin: str) -> Tenant:
    template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
    tenant, _ = tenant_create(
        external_id="acme", name="Acme Corp", template=template, allowed_origins=[host_origin]
    )
    for slot in ("shop", "erp"):
        values = {"base_url": sandbox.demo_url(slot), "api_key": sandbox.demo_keys[slot]}
        credentials_submit(tenant=tenant, slot_key=slot, values=values, requested_by=JobOrigin.API)
    active = wait_for(
        lambda: Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE, timeout=120
    )
    assert active, Tenant.objects.get(pk=tenant.pk).last_error
    return Tenant.objects.get(pk=tenant.pk)


def _flow_id(tenant, source_id: str) -> str:
    return TenantFlow.objects.get(tenant=tenant, source_id=source_id).flow_id


def _failed_run(sandbox, tenant) -> FlowRun:
    sandbox.control.configure(job_queue_seconds=0, job_run_seconds=0, job_error_records=3)
    finish(sandbox, run_flow(sandbox, _flow_id(tenant, ORDERS_SOURCE)))
    sandbox.control.configure(job_error_records=0)
    with build_runs_client(account=integrator_account_default()) as client:
        counter = CallCounter()
        tenant_runs_sync(tenant=tenant, client=client, counter=counter)
    return FlowRun.objects.get(tenant=tenant, num_error=3)


def _sandbox_doc(sandbox, path: str) -> dict:
    response = sandbox.api().get(f"{sandbox.api_url}{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def _serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_a_customer_changes_settings_switches_a_flow_and_retries_an_error(
    sandbox, provisioning_worker, live_server, host_app
):
    shots = screenshots_dir("portal")
    error_management_forget()
    tenant = _live_tenant(sandbox, host_app.origin)
    run = _failed_run(sandbox, tenant)
    customers_flow = _flow_id(tenant, CUSTOMERS_SOURCE)
    issued = connect_link_create(
        tenant=tenant, sections=["connections", "settings", "flows", "runs"]
    )
    # Served on localhost, embedded by a page on 127.0.0.1: another site, as a host app is.
    portal_url = live_server.url.replace("127.0.0.1", "localhost") + issued.path
    run_url = portal_url + f"runs/{run.job_id}/"
    host_app.embed_src = portal_url
    integration_path = f"/integrations/{tenant.integration_id}"
    findings = {}

    # No ORM inside this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(15_000)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="Your integration")).to_be_visible()
        expect(frame.locator("#connections")).to_contain_text("Connected")
        page.screenshot(path=shots / "1-page-in-iframe.png", full_page=True)

        # 1. A setting, saved, applied by the reconcile job, and in the sandbox.
        frame.get_by_label("Sync interval (minutes)").select_option(label="Every 30 minutes")
        frame.get_by_label("ERP record for each order").select_option("invoice")
        frame.get_by_role("button", name="Save settings").click()
        expect(frame.locator("#settings")).to_contain_text(
            "Your settings are saved and applied.", timeout=90_000
        )
        page.screenshot(path=shots / "2-settings-applied.png", full_page=True)
        settings = _sandbox_doc(sandbox, integration_path)["settings"]
        assert settings["pollIntervalMinutes"] == 30
        assert settings["orderSync"]["erpRecordType"] == "invoice"

        # 2. A flow switched off: the job reaches the sandbox's flow.
        frame.get_by_role("button", name="Turn off Shop customers to ERP customers").click()
        expect(frame.locator("#flows")).to_contain_text("Switched off.", timeout=90_000)
        page.screenshot(path=shots / "3-flow-off.png", full_page=True)
        assert _sandbox_doc(sandbox, f"/flows/{customers_flow}")["disabled"] is True

        # 3. The failed run: its errors, one retried, then resolved.
        frame.locator(".run-has-errors .run-link").first.click()
        expect(frame.get_by_role("heading", name="Errors")).to_be_visible()
        expect(frame.locator(".error-item")).to_have_count(3)
        expect(frame.locator(".error-item").first).to_contain_text(
            "the customer's email address is missing"
        )
        page.screenshot(path=shots / "4-run-errors.png", full_page=True)
        frame.locator(".error-item").first.get_by_role("button", name="Retry").click()
        expect(frame.get_by_role("status").first).to_contain_text("The records were sent again")
        expect(frame.locator(".error-item.is-resolved")).to_have_count(1)
        expect(frame.locator(".section-lead")).to_contain_text("2 open errors")
        page.screenshot(path=shots / "5-error-retried.png", full_page=True)

        # The same page in the iframe at a phone's width.
        page.set_viewport_size(PHONE)
        page.goto(f"{host_app.origin}/integrations")
        expect(frame.get_by_role("heading", name="Your integration")).to_be_visible()
        expect(frame.locator("#flows")).to_contain_text("Shop customers to ERP customers")
        page.screenshot(path=shots / "5b-page-in-iframe-phone.png", full_page=True)

        # 4. Keyboard only: skip link first, every control reachable, focus always visible,
        # and the stock flow switched on with Enter.
        context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
        keys = context.new_page()
        keys.goto(portal_url)
        keys.keyboard.press("Tab")
        expect(keys.get_by_role("link", name="Skip to content")).to_be_focused()
        reached = []
        for _ in range(80):
            keys.keyboard.press("Tab")
            focused = keys.evaluate(
                """() => {
                  const el = document.activeElement, style = getComputedStyle(el);
                  return {tag: el.tagName, text: (el.innerText || el.name || '').trim(),
                          ring: style.boxShadow !== 'none' || style.outlineStyle !== 'none'};
                }"""
            )
            if focused["tag"] == "BODY":
                break
            assert focused["ring"], f"no visible focus on {focused}"
            text = " ".join(focused["text"].split())
            reached.append(text)
            if text == "Turn on ERP stock levels to shop inventory":
                keys.keyboard.press("Enter")
                break
        assert "Save settings" in reached
        # In progress, or already done when the job was quicker than the page's redirect.
        expect(keys.locator("#flows")).to_contain_text(re.compile("Switching on…|Switched on."))
        expect(keys.locator("#flows")).to_contain_text("Switched on.", timeout=90_000)

        # 5. axe-core, and the phone width.
        for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            keys.set_viewport_size(viewport)
            for name, url in (("page", portal_url), ("run", run_url)):
                keys.goto(url)
                findings[f"{name}-{width_name}"] = axe_violations(keys)
                keys.screenshot(path=shots / f"6-{name}-{width_name}.png", full_page=True)
            # A setting left invalid (no order status): the summary takes focus, the field
            # says why.
            keys.goto(portal_url)
            for box in keys.locator('[name="setting-order_statuses"]:checked').all():
                box.uncheck()
            keys.get_by_role("button", name="Save settings").click()
            expect(keys.get_by_role("alert")).to_be_focused()
            expect(keys.locator("#settings")).to_contain_text("Choose at least one.")
            findings[f"settings-error-{width_name}"] = axe_violations(keys)
            keys.screenshot(path=shots / f"7-settings-error-{width_name}.png", full_page=True)
        context.close()
        browser.close()

    (shots / "axe.json").write_text(json.dumps(findings, indent=2))
    for name, violations in findings.items():
        assert not _serious(violations), (name, _serious(violations))


def test_a_read_only_pages_controls_all_look_disabled(live_server):
    from tests.connect.portal.conftest import make_live

    # 1.1.0 lets the customer change a whole number too (the refunds flow's look-back).
    newer = DEMO_TEMPLATE_FILE.with_name("shop-to-erp-1.1.0.yaml")
    template, _ = template_load(document=template_document_read(path=newer))
    tenant, _ = tenant_create(external_id="acme", name="Acme Corp", template=template)
    make_live(tenant)
    assert "refund_lookback_days" in tenant.template_version.settings_schema["properties"]
    url = (
        live_server.url
        + connect_link_create(tenant=tenant, sections=["settings"], read_only=True).path
    )
    style = """e => { const s = getComputedStyle(e);
        return [s.backgroundColor, s.color, s.cursor]; }"""

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url)
        surface = page.locator(".card").first.evaluate("e => getComputedStyle(e).backgroundColor")
        text = page.locator("h1").evaluate("e => getComputedStyle(e).color")
        controls = page.locator("#settings input:not([type=hidden]), #settings select")
        looks = {
            control.evaluate("e => e.type"): control.evaluate(style)
            for control in controls.all()
            if control.is_disabled()
        }
        browser.close()

    # Every kind the form draws is disabled; the boxes the browser greys itself, the rest by
    # the stylesheet: not the surface's white, not the text's colour.
    assert {"number", "select-one", "checkbox"} <= set(looks)
    for kind in ("number", "select-one"):
        background, colour, cursor = looks[kind]
        assert background != surface and colour != text and cursor == "not-allowed", kind


def test_reconnect_on_a_phone_lands_on_the_apps_form(live_server):
    from tests.connect.portal.conftest import make_live

    # "Reconnect" on the ERP row opened the credential form at its top ("Your integration is
    # set up", the shop's card): on a phone the ERP's fields were a screen further down, and
    # the keyboard started at the page's top. It lands on the ERP's form, as the form's own
    # "Replace credentials" link does.
    template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
    tenant, _ = tenant_create(external_id="acme", name="Acme Corp", template=template)
    make_live(tenant)
    url = live_server.url + connect_link_create(tenant=tenant, sections=["connections"]).path

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=PHONE)
        page.goto(url)
        page.locator("#connection-erp").get_by_role("link", name="Reconnect ERP").click()
        erp = page.locator("#slot-erp")
        expect(erp.get_by_label("ERP API URL")).to_be_in_viewport()
        # A person presses Tab on a loaded page; before "load", Chromium may not yet have
        # moved the focus starting point to the fragment (seen on a busy machine).
        page.wait_for_load_state("load")
        page.keyboard.press("Tab")
        inside = page.evaluate(
            "document.getElementById('slot-erp').contains(document.activeElement)"
        )
        browser.close()

    assert inside

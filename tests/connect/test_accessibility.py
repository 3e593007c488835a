"""The credential-form pages in a real browser, checked the way a person with a screen reader,
a keyboard or low vision meets them: axe-core on every page, focus after a failed submit, and
the contrast of input borders in every state (WCAG 1.4.11 asks 3:1).

Each page is also saved as a screenshot, at a desktop and a phone width, in
test-output/connect-pages/ (git-ignored), and axe's findings in axe.json beside them.
"""

import contextlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from provisioning.models import Job, JobKind, JobStatus, JobStep, StepStatus
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, ConnectLink, TenantConnection, TenantStatus
from tenants.services import template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.fixtures.browser import (
    DESKTOP,
    PHONE,
    axe_violations,
    border_contrast,
    launch,
    screenshots_dir,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_KEY = "sk-wrong-0000"
STEPS = ["connections", "clone", "wire", "settings", "enable", "reconcile", "verify"]


def _with_job(tenant, *, status: str, done: int):
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        status=status,
        requested_by="api",
        due_at=timezone.now(),
    )
    for position, name in enumerate(STEPS):
        step_status = (
            StepStatus.SUCCEEDED
            if position < done
            else StepStatus.RUNNING
            if position == done
            else StepStatus.PENDING
        )
        JobStep.objects.create(job=job, name=name, position=position, status=step_status)


@pytest.fixture
def urls(integrator, live_server):
    """A link to each state of the pages worth looking at (made before the browser opens)."""
    template, _ = template_load(document=demo_template_document(integrator))

    def tenant(external_id, status=None):
        made, _ = tenant_create(external_id=external_id, name=external_id, template=template)
        if status:
            TenantConnection.objects.filter(tenant=made).update(
                status=ConnectionStatus.OK, last_ping_at=timezone.now()
            )
            made.status = status
            made.save(update_fields=["status"])
        return made

    acme = tenant("acme")
    live = tenant("initech", TenantStatus.ACTIVE)
    _with_job(live, status=JobStatus.SUCCEEDED, done=len(STEPS))
    running = tenant("hooli", TenantStatus.PROVISIONING)
    _with_job(running, status=JobStatus.RUNNING, done=2)

    expired = connect_link_create(tenant=acme)
    ConnectLink.objects.filter(pk=expired.link.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    token = connect_link_create(tenant=acme).token
    tampered = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    base = live_server.url
    return {
        "form": base + connect_link_create(tenant=acme).path,
        "live-form": base + connect_link_create(tenant=live).path,
        "status-running": base + connect_link_create(tenant=running).path + "status/",
        "status-active": base + connect_link_create(tenant=live).path + "status/",
        "link-expired": base + expired.path,
        "link-invalid": f"{base}/connect/{tampered}/",
        "demo": integrator,
    }


def _submit_empty(page):
    page.locator("#slot-shop").get_by_role("button", name="Connect Shop").click()
    expect(page.locator(".error-summary")).to_be_visible()


def _submit_wrong_key(page, demo):
    shop = page.locator("#slot-shop")
    shop.get_by_label("Store API address").fill(demo.demo_url("shop"))
    shop.get_by_label("API key", exact=True).fill(WRONG_KEY)
    shop.get_by_role("button", name="Connect Shop").click()
    expect(page.get_by_role("alert")).to_contain_text("Shop did not accept these credentials")


@contextlib.contextmanager
def opened(url):
    """A desktop-sized page of a fresh headless Chromium, at `url`."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(15_000)
        page.goto(url)
        yield page
        browser.close()


def test_every_page_has_no_serious_or_critical_axe_violation(urls):
    shots = screenshots_dir("connect-pages")
    found: dict[str, list[dict]] = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            page.set_default_timeout(15_000)
            for name in (
                "form",
                "form-errors",
                "form-rejected",
                "live-form",
                "status-running",
                "status-active",
                "link-expired",
                "link-invalid",
            ):
                page.goto(urls[name.replace("-errors", "").replace("-rejected", "")])
                if name == "form-errors":
                    _submit_empty(page)
                elif name == "form-rejected":
                    _submit_wrong_key(page, urls["demo"])
                page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
                if width == "desktop":
                    found[name] = axe_violations(page)
            context.close()
        browser.close()

    (shots / "axe.json").write_text(json.dumps(found, indent=2))
    serious = [
        (name, v["id"], v["impact"], v["nodes"])
        for name, violations in found.items()
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_focus_moves_to_the_error_summary_after_a_failed_submit(urls):
    with opened(urls["form"]) as page:
        _submit_empty(page)

        summary = page.locator(".error-summary")
        expect(summary).to_be_focused()
        # GOV.UK's pattern: a titled alert that links to each field in error; following a
        # link puts the cursor in the field.
        expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
        links = summary.get_by_role("link")
        expect(links).to_have_count(2)
        links.first.click()
        expect(page.get_by_label("Store API address")).to_be_focused()


def test_input_borders_contrast_3_to_1_in_every_state(urls):
    with opened(urls["form"]) as page:
        address = page.get_by_label("Store API address")
        select = page.get_by_label("Subsidiary")
        page.mouse.move(0, 0)
        states = {"rest": border_contrast(address), "select": border_contrast(select)}
        address.hover()
        states["hover"] = border_contrast(address)
        address.focus()
        states["focus"] = border_contrast(address)
        _submit_empty(page)
        page.mouse.move(0, 0)
        states["error"] = border_contrast(page.get_by_label("Store API address"))

    assert {state: round(ratio, 2) for state, ratio in states.items() if ratio < 3} == {}

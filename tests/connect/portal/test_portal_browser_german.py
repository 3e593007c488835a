"""The integration page in German and in the dark scheme, in a real browser, inside the host
app's cross-site iframe.

Chromium is a German user's in dark mode (`Accept-Language: de-DE`, `prefers-color-scheme:
dark`); a second, English browser opens a link made for German (`locale="de"`) at a phone's
width. The page and a failed run's page must speak German, read well in the dark (axe-core:
nothing serious or critical; the accent and the badges at 4.5:1), and keep German's longer
words inside their buttons and the phone's width. Screenshots go to test-output/portal-de/.
"""

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create
from tenants.models import Tenant
from tests.connect.portal.overflow import overflowing
from tests.connect.portal.test_portal_browser import _failed_run, _live_tenant
from tests.fixtures.browser import (
    DESKTOP,
    PHONE,
    _rgb,
    axe_violations,
    launch,
    screenshots_dir,
    text_contrast,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = ["connections", "settings", "flows", "runs"]

# Every button or badge whose words may not fit in it, and what else German's longer words
# may push past its card or the phone's width.
PARTS = ".button, .badge, .portal-nav a, .run-facts div, .run-link > span, .row-meta"


def _serious(violations: list[dict]) -> list[tuple]:
    return [(v["id"], v["nodes"]) for v in violations if v["impact"] in ("serious", "critical")]


def _frame(page, url: str):
    return next(f for f in page.frames if f.url.startswith(url))


def _shot(page, url: str, path) -> None:
    # The iframe's document loaded and painted (two frames later), not only in the DOM.
    inner = _frame(page, url)
    inner.wait_for_load_state("load")
    inner.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    # The viewport, not the full page: in this context (dark, another site's frame) headless
    # Chromium's full-page capture leaves the cross-site frame unpainted, a blank picture.
    page.screenshot(path=path)


def test_a_german_user_in_dark_mode_reads_the_page_inside_the_host_app(
    sandbox, provisioning_worker, live_server, host_app
):
    shots = screenshots_dir("portal-de")
    tenant = _live_tenant(sandbox, host_app.origin)
    run = _failed_run(sandbox, tenant)
    Tenant.objects.filter(pk=tenant.pk).update(allowed_origins=[host_app.origin])
    base = live_server.url.replace("127.0.0.1", "localhost")  # another site than the host's
    portal_url = base + connect_link_create(tenant=tenant, sections=SECTIONS).path
    german_link = base + connect_link_create(tenant=tenant, sections=SECTIONS, locale="de").path
    run_path = f"runs/{run.job_id}/"
    found, overflows = {}, {}

    # No ORM inside this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            viewport=DESKTOP, locale="de-DE", color_scheme="dark", bypass_csp=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)

        host_app.embed_src = portal_url
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="Ihre Integration", exact=True)).to_be_visible()
        expect(frame.locator("html")).to_have_attribute("lang", "de")
        expect(frame.get_by_role("heading", name="Datenflüsse")).to_be_visible()
        expect(frame.locator("#connections")).to_contain_text("Verbunden")
        expect(frame.locator("#runs")).to_contain_text("Datensätze synchronisiert")
        expect(frame.get_by_role("button", name="Einstellungen speichern")).to_be_visible()
        # The template's own texts too, from its translations (the demo template's German).
        expect(frame.locator(".eyebrow")).to_have_text("Bestellabgleich Shop → ERP")
        expect(frame.locator("#connections")).to_contain_text("Onlineshop")
        expect(frame.locator("#flows")).to_contain_text("Shop-Kunden als ERP-Kunden")
        expect(frame.get_by_label("Bezahlt")).to_be_checked()
        inner = _frame(page, portal_url)
        assert inner.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        body = frame.locator("body")
        assert _rgb(body.evaluate("e => getComputedStyle(e).backgroundColor")) == (15, 18, 23)
        assert text_contrast(frame.locator(".run-when").first) >= 4.5
        assert text_contrast(frame.locator(".badge-ok").first) >= 4.5
        assert text_contrast(frame.locator(".portal-nav a").first) >= 4.5
        _shot(page, portal_url, shots / "1-page-de-dark.png")
        found["page"] = _serious(axe_violations(inner))
        overflows["page"] = overflowing(inner, PARTS)

        # The interval as words, and a setting left invalid: the reason in German.
        interval = frame.get_by_label("Abgleichsintervall (Minuten)")
        expect(interval.locator("option:checked")).to_have_text("Alle 15 Minuten")
        frame.get_by_label("Bezahlt").uncheck()
        frame.get_by_role("button", name="Einstellungen speichern").click()
        expect(frame.locator("#settings")).to_contain_text("Wählen Sie mindestens eine Option.")
        _shot(page, portal_url, shots / "2-settings-error-de-dark.png")
        found["settings-error"] = _serious(axe_violations(_frame(page, portal_url)))

        # The failed run: its errors and their actions in German.
        host_app.embed_src = portal_url + run_path
        page.goto(f"{host_app.origin}/integrations")
        expect(frame.get_by_role("heading", name="Ausführung vom")).to_be_visible()
        expect(frame.locator(".section-lead")).to_contain_text("3 offene Fehler")
        expect(frame.get_by_role("button", name="Alle als erledigt markieren")).to_be_visible()
        expect(frame.locator(".error-item").first).to_contain_text("Offen")
        _shot(page, portal_url + run_path, shots / "3-run-de-dark.png")
        inner = _frame(page, portal_url + run_path)
        found["run"] = _serious(axe_violations(inner))
        overflows["run"] = overflowing(inner, PARTS)
        assert context.cookies() == []
        context.close()

        # An English browser, a link made for German, a phone's width, dark.
        phone = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            locale="en-US",
            color_scheme="dark",
            bypass_csp=True,
        )
        small = phone.new_page()
        small.set_default_timeout(15_000)
        for name, url in (("page", german_link), ("run", german_link + run_path)):
            small.goto(url)
            expect(small.locator("html")).to_have_attribute("lang", "de")
            small.screenshot(path=shots / f"4-{name}-de-dark-phone.png", full_page=True)
            found[f"{name}-phone"] = _serious(axe_violations(small))
            overflows[f"{name}-phone"] = overflowing(small, PARTS)
        expect(small.get_by_role("button", name="Alle erneut versuchen")).to_be_visible()
        light = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="de-DE")
        day = light.new_page()
        day.goto(portal_url)
        expect(day.get_by_role("heading", name="Ihre Integration", exact=True)).to_be_visible()
        day.screenshot(path=shots / "5-page-de-light-phone.png", full_page=True)
        overflows["page-light-phone"] = overflowing(day, PARTS)
        browser.close()

    (shots / "axe.json").write_text(json.dumps(found, indent=2))
    assert found == {
        "page": [],
        "settings-error": [],
        "run": [],
        "page-phone": [],
        "run-phone": [],
    }
    assert overflows == {name: [] for name in overflows}, overflows


def test_german_words_fit_a_320_pixel_screen(acme, live_server):
    # 320 CSS pixels: a small phone, or a larger one zoomed to 400% (WCAG's reflow). The run
    # page's "Synchronisierte Datensätze" was wider than its half of the facts' grid: the
    # page scrolled sideways.
    from runs.models import FlowRun

    FlowRun.objects.filter(job_id="flow-orders-job-0").update(num_error=2, num_success=18)
    path = connect_link_create(tenant=acme, sections=SECTIONS, locale="de").path
    base = live_server.url + path
    found = {}

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 320, "height": 640})
        for name, url in (("page", base), ("run", base + "runs/flow-orders-job-0/")):
            page.goto(url)
            expect(page.locator("html")).to_have_attribute("lang", "de")
            found[name] = overflowing(page, PARTS)
        browser.close()

    assert found == {"page": [], "run": []}

"""The credential form in German and in the dark scheme, in a real browser, inside the host
app's cross-site iframe.

Chromium is told the user's language (`Accept-Language: de-DE`) and colour scheme (`prefers-
color-scheme: dark`), as a German user's browser in dark mode would. The pages must speak
German, scripts included, set no cookie, read well in the dark (axe-core's contrast rules,
and the brand's accent), and look right: screenshots go to test-output/connect-i18n/.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from tenants.connect_links import connect_link_create
from tenants.models import Tenant, TenantStatus
from tenants.services import template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.connect.test_status_page import make_job, set_status
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

WRONG_KEY = "sk-wrong-0000"


def _serious(violations) -> list:
    return [(v["id"], v["nodes"]) for v in violations if v["impact"] in ("serious", "critical")]


@pytest.fixture
def links(integrator, live_server, host_app):
    template, _ = template_load(document=demo_template_document(integrator))
    acme, _ = tenant_create(
        external_id="acme", name="Acme Corp", template=template, allowed_origins=[host_app.origin]
    )
    hooli, _ = tenant_create(
        external_id="hooli", name="Hooli", template=template, allowed_origins=[host_app.origin]
    )
    set_status(hooli, TenantStatus.PROVISIONING)
    make_job(hooli, done=2)
    # localhost: another site than the host app on 127.0.0.1, so the iframe is cross-site.
    base = live_server.url.replace("127.0.0.1", "localhost")
    return {
        "form": base + connect_link_create(tenant=acme).path,
        "status": base + connect_link_create(tenant=hooli).path + "status/",
        "invalid": f"{base}/connect/not-a-link-we-signed/",
    }


def test_a_german_user_in_dark_mode_reads_the_form_inside_the_host_app(links, host_app, integrator):
    shots = screenshots_dir("connect-i18n")
    host_app.embed_src = links["form"]

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            viewport=DESKTOP, locale="de-DE", color_scheme="dark", bypass_csp=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{host_app.origin}/integrations")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name="Verbinden Sie Ihre Apps")).to_be_visible()
        expect(frame.locator("html")).to_have_attribute("lang", "de")
        shop = frame.locator("#slot-shop")
        # The script's own words come from the page, in its language.
        expect(shop.get_by_role("button", name="API key anzeigen")).to_be_visible()
        expect(shop.locator(".secret-toggle")).to_have_text("Anzeigen")
        page.screenshot(path=shots / "1-form-de-dark.png")

        inner = next(f for f in page.frames if f.url.startswith(links["form"]))
        assert inner.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        body = frame.locator("body")
        assert _rgb(body.evaluate("e => getComputedStyle(e).backgroundColor")) == (15, 18, 23)
        # The brand's accent, as the page uses it for text, reads on the dark card.
        assert text_contrast(frame.locator(".eyebrow").first) >= 4.5
        assert text_contrast(shop.locator(".secret-toggle")) >= 4.5
        assert text_contrast(shop.locator(".slot-avatar")) >= 4.5
        found = {"form": _serious(axe_violations(inner))}

        shop.get_by_role("button", name="Shop verbinden").click()
        summary = frame.locator(".error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("heading", name="Es gibt ein Problem")).to_be_visible()
        expect(summary).to_contain_text("Bitte füllen Sie dieses Feld aus.")
        page.screenshot(path=shots / "2-form-errors-de-dark.png")
        inner = next(f for f in page.frames if f.url.startswith(links["form"]))
        found["form-errors"] = _serious(axe_violations(inner))

        # The app refuses a key: its reason in German; then the right key connects.
        shop.get_by_label("Store API address").fill(integrator.demo_url("shop"))
        shop.get_by_label("API key", exact=True).fill(WRONG_KEY)
        shop.get_by_role("button", name="Shop verbinden").click()
        expect(frame.get_by_role("alert")).to_contain_text(
            "Shop hat diese Zugangsdaten nicht angenommen."
        )
        page.screenshot(path=shots / "3-wrong-key-de-dark.png")
        shop.get_by_label("API key", exact=True).fill(integrator.demo_keys["shop"])
        shop.get_by_role("button", name="Shop verbinden").click()
        expect(frame.get_by_role("status")).to_contain_text("Shop ist verbunden.")
        expect(shop.locator(".slot-meta")).to_contain_text("Zuletzt geprüft: gerade eben")
        expect(frame.locator(".meter-text")).to_have_text("1 von 2 verbunden")
        page.screenshot(path=shots / "4-connected-de-dark.png")
        inner = next(f for f in page.frames if f.url.startswith(links["form"]))
        found["form-connected"] = _serious(axe_violations(inner))

        host_app.embed_src = links["status"]
        page.goto(f"{host_app.origin}/integrations")
        expect(frame.get_by_role("list", name="Schritte der Einrichtung")).to_be_visible()
        expect(
            frame.get_by_role("heading", name="Ihre Integration wird eingerichtet")
        ).to_be_visible()
        page.screenshot(path=shots / "5-status-de-dark.png")
        inner = next(f for f in page.frames if f.url.startswith(links["status"]))
        found["status"] = _serious(axe_violations(inner))

        # A page that belongs to no tenant (not framable): the browser's language still.
        page.goto(links["invalid"])
        expect(page.get_by_role("heading", name="Dieser Link funktioniert nicht")).to_be_visible()
        page.screenshot(path=shots / "6-invalid-link-de-dark.png")
        found["invalid-link"] = _serious(axe_violations(page))
        assert context.cookies() == []
        context.close()

        phone = browser.new_context(
            viewport=PHONE, device_scale_factor=2, locale="de-DE", color_scheme="light"
        )
        light = phone.new_page()
        light.goto(links["form"])
        expect(light.get_by_role("heading", name="Verbinden Sie Ihre Apps")).to_be_visible()
        light.screenshot(path=shots / "7-form-de-light-phone.png", full_page=True)
        dark = browser.new_context(viewport=PHONE, device_scale_factor=2, color_scheme="dark")
        english = dark.new_page()
        english.goto(links["form"])
        expect(english.get_by_role("heading", name="Connect your apps")).to_be_visible()
        english.screenshot(path=shots / "8-form-en-dark-phone.png", full_page=True)
        assert phone.cookies() == [] and dark.cookies() == []
        browser.close()

    assert found == {
        "form": [],
        "form-errors": [],
        "form-connected": [],
        "status": [],
        "invalid-link": [],
    }


def test_a_busy_button_keeps_an_english_app_label_marked_on_a_german_page(links, integrator):
    # The template leaves "ERP" English: on a German page the button says "<span lang="en">ERP
    # </span> verbinden", and its busy text must keep that mark when the script swaps it in.
    template = Tenant.objects.get(external_id="acme").template
    type(template).objects.filter(pk=template.pk).update(
        translations={"de": {"Shop": "Onlineshop"}}
    )

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=DESKTOP, locale="de-DE")
        page.goto(links["form"])
        erp = page.locator("#slot-erp")
        # Held here: the label as the script left it, before the page moves on.
        erp.locator("form").evaluate("f => f.addEventListener('submit', e => e.preventDefault())")
        erp.get_by_role("button", name="ERP verbinden").click()
        label = erp.locator("button[type=submit] .button-label")
        expect(label).to_have_text("Prüfung bei ERP …")
        inner = label.evaluate("e => e.innerHTML")
        shop = page.locator("#slot-shop")
        shop.locator("form").evaluate("f => f.addEventListener('submit', e => e.preventDefault())")
        shop.get_by_role("button", name="Onlineshop verbinden").click()
        shop_label = shop.locator("button[type=submit] .button-label")
        expect(shop_label).to_have_text("Prüfung bei Onlineshop …")
        shop_inner = shop_label.evaluate("e => e.innerHTML")
        browser.close()

    assert inner == 'Prüfung bei <span lang="en">ERP</span> …'
    # A label in the page's language carries no mark.
    assert shop_inner == "Prüfung bei Onlineshop …"

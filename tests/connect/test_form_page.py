"""GET /connect/<token>/: each slot with its state, and a form for those that need input."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from tenants.connect_links import connect_link_create
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tenants.services import template_document_read, template_load, tenant_create
from tests.connect.conftest import demo_template_document
from tests.connect.pages import forms_by_slot, parse


def test_it_shows_every_slot_with_a_form_for_each(acme, issue_link, pages):
    response = pages.open(issue_link(acme).path)
    html = response.content.decode()

    assert "Connect your apps" in html
    assert "Shop to ERP order sync" in html
    assert html.count("Needs credentials") == 2
    forms = forms_by_slot(html)
    assert set(forms) == {"shop", "erp"}
    assert forms["shop"].inputs["shop-store_url"]["type"] == "url"
    assert forms["shop"].inputs["shop-api_key"]["type"] == "password"
    assert forms["erp"].inputs["erp-concurrency"]["type"] == "number"
    assert forms["erp"].inputs["erp-concurrency"]["min"] == "1"
    assert forms["erp"].inputs["erp-concurrency"]["max"] == "5"
    assert "erp-subsidiary" in forms["erp"].selects
    assert "Main company" in html and "EU subsidiary" in html


def test_it_ties_labels_and_help_to_their_inputs(acme, issue_link, pages):
    html = pages.open(issue_link(acme).path).content.decode()
    parsed = parse(html)

    api_key = parsed.ids["id_shop-api_key"]
    assert api_key["aria-describedby"] == "id_shop-api_key-help"
    assert "required" in api_key
    assert parsed.ids["id_shop-api_key-help"]["tag"] == "p"
    assert '<label for="id_shop-api_key">API key</label>' in html
    assert 'Parallel requests <span class="optional">(optional)</span>' in html


def test_it_shows_a_connected_slot_with_when_it_was_checked(acme, issue_link, pages):
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )

    html = pages.open(issue_link(acme).path).content.decode()

    assert set(forms_by_slot(html)) == {"erp"}
    assert "Connected" in html
    assert "Checked <time" in html
    assert "?edit=shop" in html
    assert "1 of 2 connected" in html


def test_it_shows_why_a_slot_failed(acme, issue_link, pages):
    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.FAILED,
        last_ping_at=timezone.now(),
        last_ping_error='401 Unauthorized: {"message": "Invalid or missing API key."}',
    )

    html = pages.open(issue_link(acme).path).content.decode()

    assert "Not working" in html
    assert "ERP did not accept these credentials" in html
    assert "Invalid or missing API key." in html


def test_it_offers_the_form_again_to_replace_working_credentials(acme, issue_link, pages):
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )

    html = pages.open(issue_link(acme).path + "?edit=shop").content.decode()

    assert set(forms_by_slot(html)) == {"shop", "erp"}
    assert "Save new credentials" in html


def test_a_link_for_one_slot_shows_only_that_slot_even_when_connected(acme, issue_link, pages):
    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )

    html = pages.open(issue_link(acme, slot_key="erp").path).content.decode()

    assert set(forms_by_slot(html)) == {"erp"}
    assert 'id="slot-shop"' not in html


def test_it_sets_no_cookie(acme, issue_link, client):
    response = client.get(issue_link(acme).path)

    assert response.status_code == 200
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_a_stored_failure_that_looks_like_it_holds_a_credential_is_redacted(
    acme, issue_link, pages
):
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.FAILED,
        last_ping_error='401 Unauthorized: {"error": "bad credentials: Bearer sk-live-77aa"}',
    )

    html = pages.open(issue_link(acme).path).content.decode()

    assert "ERP did not accept" not in html and "Shop did not accept these credentials" in html
    assert "[REDACTED]" in html
    assert "sk-live-77aa" not in html


def test_the_secure_connection_note_shows_only_over_https(acme, issue_link, client):
    path = issue_link(acme).path

    plain = client.get(path).content.decode()
    direct = client.get(path, secure=True).content.decode()
    # Behind the TLS proxy that the settings trust (SECURE_PROXY_SSL_HEADER).
    proxied = client.get(path, headers={"X-Forwarded-Proto": "https"}).content.decode()

    assert "Secure connection" not in plain
    assert "Secure connection" in direct
    assert "Secure connection" in proxied


def test_a_failed_submit_has_an_error_summary_that_links_to_each_field(acme, issue_link, pages):
    response = pages.submit(issue_link(acme).path, "shop", store_url="", api_key="")
    html = response.content.decode()
    parsed = parse(html)

    summary = parsed.ids["slot-shop-errors"]
    assert summary["role"] == "alert" and summary["tabindex"] == "-1"
    assert summary["aria-labelledby"] == "slot-shop-errors-title"
    assert parsed.ids["slot-shop-errors-title"]["tag"] in ("h2", "h3")
    assert ">There is a problem<" in html
    assert '<a href="#id_shop-store_url">Store API address: This field is required.</a>' in html
    assert '<a href="#id_shop-api_key">API key: This field is required.</a>' in html
    assert "<title>Error: Connect your apps" in html


def _live(tenant):
    TenantConnection.objects.filter(tenant=tenant).update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )
    type(tenant).objects.filter(pk=tenant.pk).update(status=TenantStatus.ACTIVE)


def test_a_live_tenants_link_says_it_is_running_and_offers_to_update(acme, issue_link, pages):
    _live(acme)

    html = pages.open(issue_link(acme).path).content.decode()

    assert "being set up" not in html
    assert "set up and running" in html
    assert html.count("Replace credentials") == 2


def test_a_tenant_being_set_up_is_said_to_be_set_up(acme, issue_link, pages):
    TenantConnection.objects.filter(tenant=acme).update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )
    type(acme).objects.filter(pk=acme.pk).update(status=TenantStatus.PROVISIONING)

    html = pages.open(issue_link(acme).path).content.decode()

    assert "being set up" in html
    assert "set up and running" not in html


def test_the_demo_templates_help_shows_the_sandbox_address_to_type(db, client, settings):
    settings.INTEGRATOR_API_URL = "http://127.0.0.1:8123/v1"
    settings.SANDBOX_PUBLIC_URL = ""
    template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
    tenant, _ = tenant_create(external_id="demo", name="Demo", template=template)
    path = connect_link_create(tenant=tenant).path

    html = client.get(path).content.decode()
    settings.SANDBOX_PUBLIC_URL = "http://sandbox.internal:9000/"
    public = client.get(path).content.decode()

    assert "&lt;sandbox&gt;" not in html and "{sandbox_url}" not in html
    assert "http://127.0.0.1:8123/_demo/shop" in html
    assert "http://127.0.0.1:8123/_demo/erp" in html
    assert "http://sandbox.internal:9000/_demo/shop" in public


def _connected(tenant, slot):
    TenantConnection.objects.filter(tenant=tenant, slot_key=slot).update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )


def _cancel_href(html: str) -> str:
    return re.search(r'href="([^"]+)">Cancel</a>', html).group(1).replace("&amp;", "&")


def test_cancel_closes_the_edit_and_says_that_nothing_was_saved(acme, issue_link, pages):
    _connected(acme, "shop")
    path = issue_link(acme).path
    editing = pages.open(path + "?edit=shop").content.decode()

    cancel = _cancel_href(editing)
    html = pages.open(cancel).content.decode()

    # Not the "connected, the credentials worked and were saved" of a real save.
    assert "saved=" not in cancel
    assert "The credentials worked and were saved." not in html
    assert "Nothing was saved: Shop stays connected as it was." in html
    assert set(forms_by_slot(html)) == {"erp"}  # the shop's form is closed again


def test_cancel_on_a_link_for_one_slot_closes_that_slot_too(acme, issue_link, pages):
    _connected(acme, "erp")
    path = issue_link(acme, slot_key="erp").path
    assert set(forms_by_slot(pages.open(path).content.decode())) == {"erp"}

    html = pages.open(_cancel_href(pages.open(path).content.decode())).content.decode()

    assert forms_by_slot(html) == {}
    assert "Nothing was saved: ERP stays connected as it was." in html
    assert "The credentials worked and were saved." not in html


def test_a_slot_that_is_not_connected_has_no_cancel_and_no_notice(acme, issue_link, pages):
    path = issue_link(acme).path

    assert ">Cancel</a>" not in pages.open(path).content.decode()
    # A crafted ?canceled= for a slot that is not connected says nothing.
    assert "Nothing was saved" not in pages.open(path + "?canceled=shop").content.decode()


def test_a_head_request_is_answered_as_the_page_would_be(acme, issue_link, client):
    # HEAD is GET without the body (RFC 9110, 9.3.2): link checkers and previews ask it first,
    # and a working link must not look broken (405) to them.
    form = issue_link(acme).path
    portal = connect_link_create(tenant=acme, sections=["runs"]).path

    answers = {path: client.head(path) for path in (form, form + "status/", portal)}

    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 200)
    assert all(r.content == b"" for r in answers.values())
    # Framed by the tenant's origins only, as the page itself is.
    assert "frame-ancestors" in answers[form]["Content-Security-Policy"]


def test_a_link_for_one_app_does_not_say_everything_is_in_place_while_another_is_missing(
    acme, issue_link, pages
):
    """A host asking for one app alone (a link with `slot`): once that app works, the page
    thanks the person for it, and neither says the integration has all it needs nor sends
    them on to a setup that cannot start while another app is missing."""
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )

    html = pages.open(issue_link(acme, slot_key="shop").path + "?saved=shop").content.decode()

    assert "Shop is connected</h1>" in html
    assert "The integration is set up once its other apps are connected too." in html
    assert "Your apps are connected" not in html
    assert "Everything this integration needs is in place." not in html
    assert "/status/" not in html

    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.OK, connection_id="d" * 24, last_ping_at=timezone.now()
    )
    html = pages.open(issue_link(acme, slot_key="shop").path).content.decode()
    assert "Your apps are connected" in html or "Your integration is set up" in html


@pytest.fixture
def one_app_tenant(db, sandbox):
    """A tenant of a template with one slot only: the shop."""
    document = demo_template_document(sandbox)
    document.update(key="shop-only", name="Shop order export", slots=document["slots"][:1])
    template, _ = template_load(document=document)
    tenant, _ = tenant_create(external_id="solo", name="Solo", template=template)
    return tenant


@pytest.mark.parametrize(
    ("locale", "heading", "title", "plural"),
    [
        ("en", "<h1>Connect your app</h1>", "<title>Connect your app ·", "your apps"),
        ("de", "<h1>Verbinden Sie Ihre App</h1>", "<title>Verbinden Sie Ihre App ·", "Ihre Apps"),
    ],
)
def test_a_page_with_one_app_speaks_of_one_app(one_app_tenant, locale, heading, title, plural):
    # One slot, by the template or by the link: "Connect your apps" asked for apps that are
    # not there.
    for link in (
        connect_link_create(tenant=one_app_tenant, locale=locale),
        connect_link_create(tenant=one_app_tenant, locale=locale, slot_key="shop"),
    ):
        html = Client().get(link.path).content.decode()
        assert heading in html and title in html
        assert plural not in html

    TenantConnection.objects.filter(tenant=one_app_tenant, slot_key="shop").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )
    html = Client().get(connect_link_create(tenant=one_app_tenant, locale=locale).path)
    html = html.content.decode()
    assert plural not in html
    assert ("<h1>Shop is connected</h1>" if locale == "en" else "ist verbunden</h1>") in html


@pytest.mark.parametrize(
    ("locale", "said", "plural"),
    [
        ("en", "Connect your app first; the setup starts right after.", "every app"),
        (
            "de",
            "Verbinden Sie zuerst Ihre App; die Einrichtung beginnt direkt danach.",
            "alle Apps",
        ),
    ],
)
def test_the_status_page_of_one_app_waiting_speaks_of_one_app(one_app_tenant, locale, said, plural):
    path = connect_link_create(tenant=one_app_tenant, locale=locale).path

    html = Client().get(path + "status/").content.decode()
    body = Client().get(path + "status.json").json()

    assert said in html and plural not in html
    assert body["detail"] == said


@pytest.mark.parametrize(
    ("locale", "title"),
    [("en", "<title>Your apps are connected ·"), ("de", "<title>Ihre Apps sind verbunden ·")],
)
def test_the_title_says_what_the_page_says_once_the_apps_are_connected(
    acme, issue_link, locale, title
):
    # The tab (and a screen reader's first words) said "Connect your apps" of a page whose
    # heading said that they are connected.
    for slot_key in ("shop", "erp"):
        TenantConnection.objects.filter(tenant=acme, slot_key=slot_key).update(
            status=ConnectionStatus.OK, connection_id=slot_key[0] * 24, last_ping_at=timezone.now()
        )

    html = Client().get(connect_link_create(tenant=acme, locale=locale).path).content.decode()

    heading = re.search(r"<h1>(.*?)</h1>", html, re.S)[1]
    assert f"<title>{heading} ·" in html
    assert title in html

    # A link for one app while another is missing: the title names it, as text (a <title>
    # shows markup as it is).
    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.MISSING
    )
    one = Client().get(connect_link_create(tenant=acme, locale=locale, slot_key="shop").path)
    page_title = re.search(r"<title>(.*?)</title>", one.content.decode(), re.S)[1]
    assert page_title.startswith(("Shop is connected ·", "Shop ist verbunden ·"))
    assert "<" not in page_title and "&lt;" not in page_title

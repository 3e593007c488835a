"""POST /connect/<token>/: validate, ping through integrator.io (the sandbox), then save."""

import re

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tests.connect.pages import forms_by_slot, parse

WRONG_KEY = "wrong-key-4f9a1c"


def shop_values(sandbox, key):
    return {"store_url": sandbox.demo_url("shop"), "api_key": key}


def connections_in_sandbox(sandbox) -> list[dict]:
    return sandbox.control.objects("connections")["objects"].get("connections", [])


def test_it_connects_a_slot_with_good_credentials(acme, issue_link, pages, integrator):
    path = issue_link(acme).path

    response = pages.submit(path, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))

    assert response.status_code == 303
    # With its own fragment: the form posts to `#slot-shop-errors` (so that a refusal lands
    # on its errors), which a redirect without one would carry to the next page's address.
    assert response["Location"] == f"{path}?saved=shop#main"
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.status == ConnectionStatus.OK
    assert row.last_ping_at is not None
    assert row.field_values == {"store_url": integrator.demo_url("shop")}
    [remote] = connections_in_sandbox(integrator)
    assert remote["_id"] == row.connection_id
    assert remote["http"]["baseURI"] == integrator.demo_url("shop")

    html = pages.open(response["Location"]).content.decode()
    assert "Shop is connected." in html
    assert set(forms_by_slot(html)) == {"erp"}


def test_it_shows_the_remote_reason_and_saves_nothing_for_bad_credentials(
    acme, issue_link, pages, integrator
):
    response = pages.submit(issue_link(acme).path, "shop", **shop_values(integrator, WRONG_KEY))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Shop did not accept these credentials" in html
    assert "Invalid or missing API key." in html
    assert 'role="alert"' in html
    assert connections_in_sandbox(integrator) == []
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.connection_id == ""
    assert row.status == ConnectionStatus.FAILED
    # What was typed into the secret field is not sent back; the rest is kept.
    form = forms_by_slot(html)["shop"]
    assert "value" not in form.inputs["shop-api_key"]
    assert form.inputs["shop-store_url"]["value"] == integrator.demo_url("shop")


def test_it_says_when_the_app_cannot_be_reached(acme, issue_link, pages, integrator):
    response = pages.submit(
        issue_link(acme).path,
        "shop",
        store_url="http://127.0.0.1:9/api",
        api_key=integrator.demo_keys["shop"],
    )

    assert "We could not reach Shop at this address" in response.content.decode()
    assert connections_in_sandbox(integrator) == []


def test_an_unreached_apps_detail_is_not_credited_to_the_app(acme, issue_link, pages, integrator):
    # The refusal came from the network, not from Shop: "Details from Shop" would claim Shop
    # said it. The detail itself stays, for support staff.
    response = pages.submit(
        issue_link(acme).path,
        "shop",
        store_url="http://127.0.0.1:1/api",
        api_key=integrator.demo_keys["shop"],
    )

    html = response.content.decode()
    [detail] = re.findall(r'<p class="notice-detail">(.*?)</p>', html, re.S)
    assert detail.startswith('Technical details: <span lang="en">')
    assert "127.0.0.1:1" in detail
    assert "Details from" not in html


def test_it_reports_field_errors_before_calling_integrator_io(acme, issue_link, pages, integrator):
    integrator.control.clear_requests_log()

    response = pages.submit(issue_link(acme).path, "shop", store_url="not a url", api_key="")

    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "Enter a valid URL." in html
    assert "This field is required." in html
    ids = parse(html).ids
    assert ids["id_shop-store_url"]["aria-invalid"] == "true"
    assert ids["id_shop-store_url"]["aria-describedby"] == (
        "id_shop-store_url-error id_shop-store_url-help"
    )
    assert ids["id_shop-store_url-error"]["tag"] == "p"
    assert integrator.control.requests_log() == []


def test_it_checks_select_and_number_fields(acme, issue_link, pages, integrator):
    response = pages.submit(
        issue_link(acme).path, "erp", api_key="x", subsidiary="mars", concurrency="9"
    )

    html = response.content.decode()
    assert "Select a valid choice." in html
    assert "Ensure this value is less than or equal to 5." in html
    assert connections_in_sandbox(integrator) == []


def test_it_maps_every_field_into_the_connection(acme, issue_link, pages, integrator):
    response = pages.submit(
        issue_link(acme).path,
        "erp",
        api_key=integrator.demo_keys["erp"],
        subsidiary="eu",
        concurrency="3",
    )

    assert response.status_code == 303
    [remote] = integrator.control.objects("connections", reveal=True)["objects"]["connections"]
    assert remote["http"]["auth"]["token"]["token"] == integrator.demo_keys["erp"]
    assert remote["http"]["unencrypted"] == {"subsidiary": "eu"}
    assert remote["http"]["concurrencyLevel"] == 3
    row = TenantConnection.objects.get(tenant=acme, slot_key="erp")
    assert row.field_values == {"subsidiary": "eu", "concurrency": 3}


def test_a_reconnect_updates_the_same_connection(acme, issue_link, pages, integrator):
    path = issue_link(acme, slot_key="shop").path
    pages.submit(path, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))
    first_id = TenantConnection.objects.get(tenant=acme, slot_key="shop").connection_id

    # The same store moved: new address, same key.
    new_url = integrator.demo_url("shop") + "/"
    response = pages.submit(
        issue_link(acme, slot_key="shop").path,
        "shop",
        store_url=new_url,
        api_key=integrator.demo_keys["shop"],
    )

    assert response.status_code == 303
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.connection_id == first_id
    [remote] = connections_in_sandbox(integrator)
    assert remote["_id"] == first_id
    assert remote["http"]["baseURI"] == new_url


def test_a_failed_reconnect_keeps_the_working_connection(acme, issue_link, pages, integrator):
    path = issue_link(acme, slot_key="shop").path
    pages.submit(path, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))

    response = pages.submit(path, "shop", **shop_values(integrator, WRONG_KEY))

    assert "Shop did not accept these credentials" in response.content.decode()
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.status == ConnectionStatus.OK
    [remote] = integrator.control.objects("connections", reveal=True)["objects"]["connections"]
    assert remote["http"]["auth"]["token"]["token"] == integrator.demo_keys["shop"]


def test_the_last_slot_queues_provisioning_and_leads_to_the_status_page(
    acme, issue_link, pages, integrator
):
    path = issue_link(acme).path
    pages.submit(path, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))
    assert not Job.objects.filter(tenant=acme).exists()

    response = pages.submit(path, "erp", api_key=integrator.demo_keys["erp"], subsidiary="main")

    assert response.status_code == 303
    assert response["Location"] == path + "status/#main"
    [job] = Job.objects.filter(tenant=acme)
    assert job.kind == JobKind.PROVISION
    assert job.requested_by == JobOrigin.FORM
    assert job.status == JobStatus.QUEUED


def test_a_reconnect_of_a_live_tenant_queues_nothing(acme, issue_link, pages, integrator):
    path = issue_link(acme).path
    pages.submit(path, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))
    pages.submit(path, "erp", api_key=integrator.demo_keys["erp"], subsidiary="main")
    Job.objects.filter(tenant=acme).update(status=JobStatus.SUCCEEDED)
    type(acme).objects.filter(pk=acme.pk).update(status=TenantStatus.ACTIVE)

    response = pages.submit(
        issue_link(acme, slot_key="erp").path,
        "erp",
        api_key=integrator.demo_keys["erp"],
        subsidiary="eu",
    )

    assert response.status_code == 303
    assert response["Location"].endswith("/status/#main")
    assert Job.objects.filter(tenant=acme).count() == 1


def test_replacing_credentials_keeps_the_non_secret_values_filled_in(
    acme, issue_link, pages, integrator
):
    path = issue_link(acme).path
    pages.submit(path, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))

    html = pages.open(path + "?edit=shop").content.decode()

    form = forms_by_slot(html)["shop"]
    assert form.inputs["shop-store_url"]["value"] == integrator.demo_url("shop")
    assert "value" not in form.inputs["shop-api_key"]
    assert integrator.demo_keys["shop"] not in html


def test_a_save_opened_from_the_integration_page_returns_there(acme, pages, integrator):
    portal = connect_link_create(tenant=acme, sections=["connections"]).path
    form = portal.removesuffix("portal/")
    pages.submit(form, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))
    edit = re.search(r'href="([^"]*\?edit=shop[^"]*)"', pages.open(portal).content.decode())

    # The integration page's Replace link: the form, told to go back (`back=portal`).
    response = pages.submit(
        edit.group(1).replace("&amp;", "&"),
        "shop",
        **shop_values(integrator, integrator.demo_keys["shop"]),
    )

    assert response.status_code == 303
    assert response["Location"] == f"{portal}?saved=shop#connections-outcome"
    html = pages.open(response["Location"]).content.decode()
    assert "Shop is connected." in html and "The credentials worked and were saved." in html


def test_the_form_opened_from_the_integration_page_leads_back_there(acme, pages, integrator):
    # Reconnect on the integration page opens the form with `back=portal`. Once every app is
    # connected, the form's way on is back to the integration page, not the setup's status
    # page (a dead end inside the host app), and the other slots' Replace links go back too.
    portal = connect_link_create(tenant=acme, sections=["connections"]).path
    form = portal.removesuffix("portal/")
    pages.submit(form, "shop", **shop_values(integrator, integrator.demo_keys["shop"]))
    pages.submit(form, "erp", api_key=integrator.demo_keys["erp"], subsidiary="main")

    html = pages.open(f"{form}?edit=shop&back=portal").content.decode()
    plain = pages.open(form).content.decode()

    assert "Back to your integration" in html and f'href="{portal}"' in html
    assert "See its status" not in html and "/status/" not in html
    assert re.search(r'href="\?edit=erp&amp;back=portal#slot-erp"', html)
    # Opened as the credential form, it is as before.
    assert "Back to your integration" not in plain and "/status/" in plain


def test_an_address_typed_without_a_scheme_is_shown_as_tried_and_a_tls_mismatch_explained(
    acme, issue_link, pages, integrator
):
    # The sandbox's demo shop answers plain HTTP; typed without http://, the form tries
    # https:// (URLField's assume_scheme) and TLS fails. The user must see which address was
    # tried, and a sentence about https rather than OpenSSL's words as the headline.
    typed = integrator.demo_url("shop").removeprefix("http://")

    response = pages.submit(
        issue_link(acme).path, "shop", store_url=typed, api_key=integrator.demo_keys["shop"]
    )

    html = response.content.decode()
    form = forms_by_slot(html)["shop"]
    assert form.inputs["shop-store_url"]["value"] == f"https://{typed}"
    [summary] = re.findall(r'<div class="error-summary".*?<p>(.*?)</p>', html, re.S)
    assert summary == (
        "Shop does not answer over https at this address. If the address starts with "
        "http://, enter it with http://."
    )
    # The library's text stays, below, for support staff, not credited to the app.
    [detail] = re.findall(r'<p class="notice-detail">(.*?)</p>', html, re.S)
    assert detail.startswith("Technical details: ")
    assert "WRONG_VERSION_NUMBER" in detail

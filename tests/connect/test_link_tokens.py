"""Links that are expired, revoked, tampered with or malformed get one friendly 404 page;
a link of one tenant never reads or changes another tenant."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.connect_links import connect_link_revoke
from tenants.models import ConnectionStatus, ConnectLink, TenantConnection
from tests.connect.pages import forms_by_slot

INVALID_TITLE = "This link is no longer valid"


def assert_invalid_link_page(response, *, leaks=()):
    html = response.content.decode()
    assert response.status_code == 404
    assert INVALID_TITLE in html
    assert "<form" not in html
    for text in leaks:
        assert text not in html
    assert response["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response["Referrer-Policy"] == "no-referrer"


def test_an_expired_link_is_refused(acme, issue_link, client):
    issued = issue_link(acme)
    ConnectLink.objects.filter(pk=issued.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_invalid_link_page(client.get(issued.path), leaks=["Acme", "Shop to ERP"])
    assert_invalid_link_page(client.get(issued.path + "status/"), leaks=["Acme"])
    assert client.get(issued.path + "status.json").status_code == 404


def test_a_revoked_link_is_refused(acme, issue_link, client):
    issued = issue_link(acme)
    connect_link_revoke(link=issued.link)

    assert_invalid_link_page(client.get(issued.path), leaks=["Acme"])


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a" * 5000, "eyJsIjoi:1t2:abc", "%C3%BC%00", "..", "x:y:z"],
)
def test_a_malformed_token_is_refused(db, client, token):
    assert_invalid_link_page(client.get(f"/connect/{token}/"))


def test_a_tampered_token_is_refused(acme, issue_link, client):
    token = issue_link(acme).token
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]

    assert_invalid_link_page(client.get(f"/connect/{flipped}/"), leaks=["Acme"])


def test_every_invalid_link_gets_the_same_page(acme, issue_link, client):
    expired = issue_link(acme)
    ConnectLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now())
    revoked = issue_link(acme)
    connect_link_revoke(link=revoked.link)

    bodies = {
        re.sub(rb'nonce="[^"]+"', b"", client.get(path).content)
        for path in (expired.path, revoked.path, "/connect/garbage/")
    }

    assert len(bodies) == 1


def test_the_token_of_a_refused_link_is_redacted_from_the_request_log(
    acme, issue_link, client, caplog
):
    issued = issue_link(acme)
    connect_link_revoke(link=issued.link)

    client.get(issued.path)

    # Django logs the path of every 4xx; the handlers' redaction filter takes the token out.
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert issued.token not in caplog.text
    assert "/connect/[REDACTED]/" in record.getMessage()


def test_a_post_to_an_invalid_link_changes_nothing(acme, issue_link, client, integrator):
    issued = issue_link(acme)
    form = forms_by_slot(client.get(issued.path).content.decode())["shop"]
    connect_link_revoke(link=issued.link)

    response = client.post(
        issued.path,
        form.data(store_url=integrator.demo_url("shop"), api_key=integrator.demo_keys["shop"]),
    )

    assert response.status_code == 404
    assert TenantConnection.objects.get(tenant=acme, slot_key="shop").connection_id == ""


def test_a_tenants_link_shows_nothing_of_another_tenant(acme, globex, issue_link, client):
    TenantConnection.objects.filter(tenant=globex, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="globex-only failure reason"
    )

    html = client.get(issue_link(acme).path).content.decode()

    assert "globex-only failure reason" not in html
    assert "Globex" not in html


def test_a_form_of_one_tenant_cannot_be_posted_to_another_tenants_link(
    acme, globex, issue_link, client, integrator
):
    acme_path, globex_path = issue_link(acme).path, issue_link(globex).path
    globex_form = forms_by_slot(client.get(globex_path).content.decode())["shop"]
    values = {"store_url": integrator.demo_url("shop"), "api_key": integrator.demo_keys["shop"]}

    response = client.post(acme_path, globex_form.data(**values))

    assert response.status_code == 403
    assert TenantConnection.objects.get(tenant=acme, slot_key="shop").connection_id == ""
    assert TenantConnection.objects.get(tenant=globex, slot_key="shop").connection_id == ""


def test_a_link_for_one_slot_cannot_change_another_slot(acme, issue_link, client, integrator):
    shop_only = issue_link(acme, slot_key="shop").path
    full_form = forms_by_slot(client.get(issue_link(acme).path).content.decode())["erp"]

    response = client.post(
        shop_only, full_form.data(api_key=integrator.demo_keys["erp"], subsidiary="main")
    )

    assert response.status_code == 403
    assert TenantConnection.objects.get(tenant=acme, slot_key="erp").connection_id == ""

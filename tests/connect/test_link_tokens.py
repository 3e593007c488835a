"""A link's page says what is wrong with it, as far as its signature proves: a link we signed
that has expired, was revoked or whose tenant is gone gets 410 and "ask the app for a new
link" (titled "expired" only when it ran out of time, else "no longer valid"); a token whose
signature fails (tampered with, cut short, guessed) gets 404 and "check the link you
followed". The JSON the status page polls answers the same statuses, as JSON. A link of one
tenant never reads or changes another tenant."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from tenants.connect_links import SALT, connect_link_revoke, connect_link_token
from tenants.models import ConnectionStatus, ConnectLink, TenantConnection, TenantStatus
from tests.connect.conftest import ACME_ORIGIN, GLOBEX_ORIGIN
from tests.connect.pages import forms_by_slot

EXPIRED_TITLE = "This link has expired"
NO_LONGER_VALID_TITLE = "This link is no longer valid"
INVALID_TITLE = "This link does not work"


def assert_link_page(response, *, status, title, leaks=(), framed_by="'none'"):
    html = response.content.decode()
    assert response.status_code == status
    assert title in html
    assert "<form" not in html
    for text in leaks:
        assert text not in html
    assert response["Content-Security-Policy"].endswith(f"frame-ancestors {framed_by}")
    assert response["Referrer-Policy"] == "no-referrer"


def assert_expired_link_page(response, *, leaks=(), title=EXPIRED_TITLE, framed_by=ACME_ORIGIN):
    # A link we signed names its tenant: the host page that embedded it may go on framing it,
    # so that its customer reads "ask for a new link" rather than the browser's refusal.
    assert_link_page(response, status=410, title=title, leaks=leaks, framed_by=framed_by)
    assert "new link" in response.content.decode()
    assert "X-Frame-Options" not in response


def assert_no_longer_valid_link_page(response, *, leaks=()):
    assert_expired_link_page(response, leaks=leaks, title=NO_LONGER_VALID_TITLE)
    html = response.content.decode()
    assert "<title>Link no longer valid" in html
    assert "expired" not in html


def assert_link_json(response, *, status, code, title):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["title"]) == (code, title)
    assert error["message"]
    assert response["Content-Security-Policy"].endswith("frame-ancestors 'none'")


def assert_invalid_link_page(response, *, leaks=()):
    # Not a link we signed: no tenant is known to allow framing it.
    assert_link_page(response, status=404, title=INVALID_TITLE, leaks=leaks)
    assert response["X-Frame-Options"] == "DENY"
    assert "Check the link" in response.content.decode()


def test_an_expired_link_is_refused_as_expired(acme, issue_link, client):
    issued = issue_link(acme)
    ConnectLink.objects.filter(pk=issued.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_expired_link_page(client.get(issued.path), leaks=["Acme", "Shop to ERP"])
    assert_expired_link_page(client.get(issued.path + "status/"), leaks=["Acme"])
    assert "<title>Link expired" in client.get(issued.path).content.decode()
    assert_link_json(
        client.get(issued.path + "status.json"),
        status=410,
        code="expired_link",
        title=EXPIRED_TITLE,
    )


def test_a_revoked_link_is_refused_as_no_longer_valid(acme, issue_link, client):
    issued = issue_link(acme)
    connect_link_revoke(link=issued.link)

    assert_no_longer_valid_link_page(client.get(issued.path), leaks=["Acme"])
    assert_no_longer_valid_link_page(client.get(issued.path + "status/"), leaks=["Acme"])
    assert_link_json(
        client.get(issued.path + "status.json"),
        status=410,
        code="link_no_longer_valid",
        title=NO_LONGER_VALID_TITLE,
    )


def test_a_revoked_link_that_also_expired_is_no_longer_valid(acme, issue_link, client):
    issued = issue_link(acme)
    connect_link_revoke(link=issued.link)
    ConnectLink.objects.filter(pk=issued.link.pk).update(expires_at=timezone.now())

    assert_no_longer_valid_link_page(client.get(issued.path), leaks=["Acme"])


def test_a_link_of_a_deprovisioned_tenant_is_refused_as_no_longer_valid(acme, issue_link, client):
    issued = issue_link(acme)
    type(acme).objects.filter(pk=acme.pk).update(status=TenantStatus.DEPROVISIONED)

    assert_no_longer_valid_link_page(client.get(issued.path), leaks=["Acme"])


@pytest.mark.parametrize("token", ["not-a-token", "eyJsIjoi:1t2:abc"])
def test_the_status_json_of_an_invalid_token_is_json(db, client, token):
    assert_link_json(
        client.get(f"/connect/{token}/status.json"),
        status=404,
        code="invalid_link",
        title=INVALID_TITLE,
    )


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a" * 5000, "eyJsIjoi:1t2:abc", "%C3%BC%00", "..", "x:y:z"],
)
def test_a_malformed_token_is_refused_as_invalid(db, client, token):
    assert_invalid_link_page(client.get(f"/connect/{token}/"))


def test_a_tampered_token_is_refused_as_invalid(acme, issue_link, client):
    token = issue_link(acme).token
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]

    assert_invalid_link_page(client.get(f"/connect/{flipped}/"), leaks=["Acme"])


def test_a_token_signed_with_another_key_is_refused_as_invalid(acme, issue_link, client):
    issued = issue_link(acme)
    forged = signing.dumps({"l": issued.link.id.hex, "t": acme.pk}, key="not-ours", salt=SALT)

    assert_invalid_link_page(client.get(f"/connect/{forged}/"), leaks=["Acme"])


def test_a_guessed_token_is_answered_without_looking_anything_up(
    acme, issue_link, client, django_assert_num_queries
):
    # Whether a link row exists is looked up only for tokens we signed: a guesser learns
    # nothing, not even from the time the answer takes.
    token = issue_link(acme).token
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]

    with django_assert_num_queries(0):
        response = client.get(f"/connect/{flipped}/")

    assert response.status_code == 404


def test_each_kind_of_refused_link_gets_one_page(acme, issue_link, client):
    expired = issue_link(acme)
    ConnectLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now())
    revoked = issue_link(acme)
    connect_link_revoke(link=revoked.link)
    token = issue_link(acme).token
    tampered = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]

    def bodies(*paths):
        return {re.sub(rb'nonce="[^"]+"', b"", client.get(path).content) for path in paths}

    again = issue_link(acme)
    connect_link_revoke(link=again.link)

    assert len(bodies(revoked.path, again.path)) == 1
    assert len(bodies(f"/connect/{tampered}/", "/connect/garbage/")) == 1
    assert len(bodies(expired.path, revoked.path, "/connect/garbage/")) == 3


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

    assert response.status_code == 410
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


def test_a_link_older_than_any_link_lives_may_still_be_framed_by_its_host(acme, issue_link, client):
    issued = issue_link(acme)
    long_ago = timezone.now() - timedelta(days=30)
    ConnectLink.objects.filter(pk=issued.link.pk).update(created_at=long_ago, expires_at=long_ago)
    # Signed at its creation: its signature itself has run out, yet it names its tenant.
    token = connect_link_token(ConnectLink.objects.get(pk=issued.link.pk))

    assert_expired_link_page(client.get(f"/connect/{token}/"), leaks=["Acme"])


def test_a_link_of_another_tenant_is_framed_only_by_that_tenants_host(
    acme, globex, issue_link, client
):
    issued = issue_link(globex)
    connect_link_revoke(link=issued.link)

    response = client.get(issued.path)

    assert response.status_code == 410
    assert ACME_ORIGIN not in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"].endswith(f"frame-ancestors {GLOBEX_ORIGIN}")

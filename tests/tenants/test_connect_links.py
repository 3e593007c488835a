"""Signed, expiring, revocable links to the credential form."""

import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from core.errors import InvalidInputError
from tenants.connect_links import (
    SALT,
    connect_link_create,
    connect_link_resolve,
    connect_link_revoke,
)
from tenants.errors import (
    ConnectLinkInvalid,
    ConnectLinkNotRevocable,
    SlotNotInTemplate,
    TenantGone,
)
from tenants.models import ConnectLink
from tenants.services import tenant_deprovision

pytestmark = pytest.mark.django_db


def test_it_resolves_a_fresh_link(acme):
    issued = connect_link_create(tenant=acme, slot_key="shop")
    assert issued.path == f"/connect/{issued.token}/"
    link = connect_link_resolve(issued.token)
    assert link.pk == issued.link.pk and link.tenant == acme and link.slot_key == "shop"
    remaining = link.expires_at - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


def test_it_refuses_an_expired_link(acme):
    issued = connect_link_create(tenant=acme, expires_in=timedelta(minutes=1))
    ConnectLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(issued.token)


def test_it_refuses_a_revoked_link(acme):
    issued = connect_link_create(tenant=acme)
    connect_link_revoke(link=issued.link)
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(issued.token)


def test_it_refuses_links_of_a_deprovisioned_tenant(acme):
    issued = connect_link_create(tenant=acme)
    tenant_deprovision(tenant=acme)
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(issued.token)
    with pytest.raises(TenantGone):
        connect_link_create(tenant=acme)


@pytest.mark.parametrize("token", ["", "garbage", "a:b:c", "x" * 5000, "\x00", None])
def test_it_refuses_malformed_tokens(acme, token):
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(token)


def test_it_refuses_a_tampered_token(acme, globex):
    issued = connect_link_create(tenant=acme, slot_key="shop")
    payload = signing.loads(issued.token, salt=SALT)
    # Pointing a valid link at another tenant or slot requires the signing key.
    forged = signing.dumps({**payload, "t": globex.pk}, salt="another-salt", compress=True)
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(forged)
    tampered = issued.token[:-2] + ("AA" if not issued.token.endswith("AA") else "BB")
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(tampered)


def test_it_refuses_a_token_whose_claims_differ_from_the_link(acme):
    issued = connect_link_create(tenant=acme, slot_key="shop")
    payload = signing.loads(issued.token, salt=SALT)
    resigned = signing.dumps({**payload, "s": "erp"}, salt=SALT, compress=True)
    with pytest.raises(ConnectLinkInvalid):
        connect_link_resolve(resigned)


def test_it_bounds_the_lifetime(acme):
    for expires_in in (timedelta(seconds=59), timedelta(days=8)):
        with pytest.raises(InvalidInputError):
            connect_link_create(tenant=acme, expires_in=expires_in)


def test_it_refuses_an_unknown_slot(acme):
    with pytest.raises(SlotNotInTemplate) as refused:
        connect_link_create(tenant=acme, slot_key="crm")
    assert refused.value.fields == {"slot": ["Not a slot of shop-to-erp."]}


def test_it_accepts_a_return_url_only_on_an_allowed_origin(acme):
    ok = connect_link_create(tenant=acme, return_url="https://app.example.com/settings?x=1")
    assert connect_link_resolve(ok.token).return_url == "https://app.example.com/settings?x=1"
    for url in (
        "https://evil.example.com/",
        "https://app.example.com.evil.com/",
        "http://app.example.com/",
        "https://user@app.example.com/",
    ):
        with pytest.raises(InvalidInputError):
            connect_link_create(tenant=acme, return_url=url)


def test_it_revokes_a_link_once_and_refuses_to_revoke_an_expired_one_when_asked(acme):
    live = connect_link_create(tenant=acme).link
    revoked = connect_link_revoke(link=live, refuse_expired=True)
    assert revoked.revoked_at is not None
    again = connect_link_revoke(link=live, refuse_expired=True)
    assert again.revoked_at == revoked.revoked_at  # idempotent: revoked when first asked

    expired = connect_link_create(tenant=acme).link
    ConnectLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    with pytest.raises(ConnectLinkNotRevocable):
        connect_link_revoke(link=expired, refuse_expired=True)
    assert ConnectLink.objects.get(pk=expired.pk).revoked_at is None


class TestApi:
    URL = "/api/v1/tenants/acme/connect-links"

    def test_it_issues_a_link(self, api, acme):
        response = api.post(
            "/api/v1/tenants/acme/connect-links",
            {"slot": "erp", "return_url": "https://app.example.com/done", "expires_in": 600},
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["url"] == f"http://testserver/connect/{body['token']}/"
        assert body["slot"] == "erp" and body["return_url"] == "https://app.example.com/done"
        assert connect_link_resolve(body["token"]).slot_key == "erp"

    def test_it_refuses_a_foreign_return_url(self, api, acme):
        response = api.post(
            "/api/v1/tenants/acme/connect-links",
            {"return_url": "https://evil.example.com/"},
            format="json",
        )
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["return_url"]

    def test_it_refuses_an_out_of_bounds_lifetime(self, api, acme):
        response = api.post("/api/v1/tenants/acme/connect-links", {"expires_in": 10}, format="json")
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["expires_in"]

    def test_it_issues_a_link_with_its_id_and_state(self, api, acme):
        response = api.post(self.URL, {"slot": "shop"}, format="json")

        assert response.status_code == 201
        body = response.json()
        link = ConnectLink.objects.get(pk=body["id"])
        assert link.tenant == acme
        assert body["state"] == "active" and body["revoked_at"] is None
        assert body["url"].endswith(f"/connect/{body['token']}/")

    def test_it_lists_a_tenants_links_with_their_state_and_never_their_tokens(
        self, api, acme, globex
    ):
        active = connect_link_create(tenant=acme).link
        expired = connect_link_create(tenant=acme).link
        ConnectLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
        revoked = connect_link_revoke(link=connect_link_create(tenant=acme).link)
        connect_link_create(tenant=globex)

        body = api.get(self.URL).json()

        states = {item["id"]: item["state"] for item in body["results"]}
        assert states == {
            str(active.pk): "active",
            str(expired.pk): "expired",
            str(revoked.pk): "revoked",
        }
        assert all("token" not in item and "url" not in item for item in body["results"])
        only_active = api.get(self.URL, {"state": "active"}).json()["results"]
        assert [item["id"] for item in only_active] == [str(active.pk)]

    def test_it_revokes_a_link_so_that_it_no_longer_opens(self, api, acme):
        issued = connect_link_create(tenant=acme)

        response = api.delete(f"{self.URL}/{issued.link.pk}")
        repeated = api.delete(f"{self.URL}/{issued.link.pk}")

        assert response.status_code == 200, response.content
        assert response.json()["state"] == "revoked"
        assert repeated.status_code == 200
        assert repeated.json()["revoked_at"] == response.json()["revoked_at"]
        with pytest.raises(ConnectLinkInvalid):
            connect_link_resolve(issued.token)

    def test_it_says_an_expired_link_has_nothing_to_revoke(self, api, acme):
        link = connect_link_create(tenant=acme).link
        ConnectLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())

        response = api.delete(f"{self.URL}/{link.pk}")

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "link_expired"
        assert "expired" in response.json()["error"]["message"]

    @pytest.mark.parametrize("link_id", ["other-tenant", "not-a-uuid", str(uuid.uuid4())])
    def test_it_answers_404_for_a_link_that_is_not_the_tenants(self, api, acme, globex, link_id):
        if link_id == "other-tenant":
            link_id = str(connect_link_create(tenant=globex).link.pk)

        response = api.delete(f"{self.URL}/{link_id}")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "connect_link_not_found"

"""Cross-site posts are refused without relying on cookies: each form carries a token bound
to its link and slot, and a browser's Origin must be this service or an allowed origin."""

from tenants.models import ConnectionStatus, TenantConnection
from tests.connect.conftest import ACME_ORIGIN, GLOBEX_ORIGIN
from tests.connect.pages import forms_by_slot


def good_shop_values(sandbox):
    return {"store_url": sandbox.demo_url("shop"), "api_key": sandbox.demo_keys["shop"]}


def shop_form(client, path):
    return forms_by_slot(client.get(path).content.decode())["shop"]


def assert_nothing_saved(tenant):
    row = TenantConnection.objects.get(tenant=tenant, slot_key="shop")
    assert (row.status, row.connection_id) == (ConnectionStatus.MISSING, "")


def test_the_whole_flow_works_without_any_cookie(acme, issue_link, client, integrator):
    path = issue_link(acme).path
    first = client.get(path)

    response = client.post(path, shop_form(client, path).data(**good_shop_values(integrator)))

    assert response.status_code == 303
    assert not first.cookies and not response.cookies and not client.cookies
    assert TenantConnection.objects.get(tenant=acme, slot_key="shop").status == "ok"


def test_a_post_without_the_form_token_is_refused(acme, issue_link, client, integrator):
    path = issue_link(acme).path
    data = shop_form(client, path).data(**good_shop_values(integrator))
    del data["shop-form_token"]

    response = client.post(path, data)

    assert response.status_code == 403
    assert "We could not accept this form" in response.content.decode()
    assert_nothing_saved(acme)


def test_a_forged_form_token_is_refused(acme, issue_link, client, integrator):
    path = issue_link(acme).path
    data = shop_form(client, path).data(**good_shop_values(integrator))
    data["shop-form_token"] = data["shop-form_token"][:-2] + "xx"

    assert client.post(path, data).status_code == 403
    assert_nothing_saved(acme)


def test_a_form_token_of_another_link_of_the_same_tenant_is_refused(
    acme, issue_link, client, integrator
):
    path, other_path = issue_link(acme).path, issue_link(acme).path
    data = shop_form(client, other_path).data(**good_shop_values(integrator))

    assert client.post(path, data).status_code == 403
    assert_nothing_saved(acme)


def test_a_form_token_of_another_slot_is_refused(acme, issue_link, client, integrator):
    path = issue_link(acme).path
    forms = forms_by_slot(client.get(path).content.decode())
    data = forms["shop"].data(**good_shop_values(integrator))
    data["shop-form_token"] = forms["erp"].inputs["erp-form_token"]["value"]

    assert client.post(path, data).status_code == 403
    assert_nothing_saved(acme)


def test_a_post_from_a_foreign_origin_is_refused(acme, issue_link, client, integrator):
    path = issue_link(acme).path
    data = shop_form(client, path).data(**good_shop_values(integrator))

    for headers in (
        {"Origin": "https://evil.test"},
        {"Origin": GLOBEX_ORIGIN, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        response = client.post(path, data, headers=headers)
        assert response.status_code == 403, headers
    assert_nothing_saved(acme)


def test_a_post_from_this_service_or_an_allowed_origin_is_accepted(
    acme, issue_link, client, integrator
):
    path = issue_link(acme).path
    forms = forms_by_slot(client.get(path).content.decode())

    own = client.post(
        path,
        forms["shop"].data(**good_shop_values(integrator)),
        headers={"Origin": "http://testserver"},
    )
    embedded = client.post(
        path,
        forms["erp"].data(api_key=integrator.demo_keys["erp"], subsidiary="main"),
        headers={"Origin": ACME_ORIGIN},
    )

    assert (own.status_code, embedded.status_code) == (303, 303)


def test_a_same_origin_post_under_no_referrer_is_accepted(acme, issue_link, client, integrator):
    # What a browser sends for our own form: no-referrer turns Origin into "null".
    path = issue_link(acme).path

    response = client.post(
        path,
        shop_form(client, path).data(**good_shop_values(integrator)),
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 303

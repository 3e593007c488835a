"""The demo target apps under /_demo/: key check, ping, records."""

import requests


def test_it_checks_the_key_of_each_demo_app(sandbox_clean):
    for app, key in sandbox_clean.demo_keys.items():
        url = sandbox_clean.demo_url(app) + "/ping"
        assert requests.get(url, headers={"X-Api-Key": key}, timeout=5).json()["app"] == app
        assert requests.get(url, params={"api_key": key}, timeout=5).status_code == 200
        assert requests.get(url, auth=("any", key), timeout=5).status_code == 200
        assert requests.get(url, headers={"X-Api-Key": "wrong"}, timeout=5).status_code == 401
        assert requests.get(url, timeout=5).status_code == 401
    other = sandbox_clean.demo_url("shop") + "/ping"
    erp_key = sandbox_clean.demo_keys["erp"]
    assert requests.get(other, headers={"X-Api-Key": erp_key}, timeout=5).status_code == 401


def test_it_serves_and_accepts_records(sandbox_clean):
    shop = {"X-Api-Key": sandbox_clean.demo_keys["shop"]}
    erp = {"X-Api-Key": sandbox_clean.demo_keys["erp"]}
    orders = requests.get(sandbox_clean.demo_url("shop") + "/orders", headers=shop, timeout=5)
    assert len(orders.json()) >= 3
    first = orders.json()[0]
    one = requests.get(
        f"{sandbox_clean.demo_url('shop')}/orders/{first['id']}", headers=shop, timeout=5
    )
    assert one.json() == first
    created = requests.post(
        sandbox_clean.demo_url("erp") + "/salesorders",
        json={"externalId": first["id"]},
        headers=erp,
        timeout=5,
    )
    assert created.status_code == 201
    listed = requests.get(sandbox_clean.demo_url("erp") + "/salesorders", headers=erp, timeout=5)
    assert created.json() in listed.json()
    sandbox_clean.control.reset()
    listed = requests.get(sandbox_clean.demo_url("erp") + "/salesorders", headers=erp, timeout=5)
    assert created.json() not in listed.json()

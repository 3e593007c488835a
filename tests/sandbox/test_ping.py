"""Ping: a real request to the demo apps for http/rest, a documented rule for other types."""

import socket

from tests.sandbox.payloads import http_connection


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_it_pings_a_healthy_connection_by_get_and_post(api, sandbox_clean):
    # Conformance cases 3 and 4.
    body = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    created = api.create("connections", body)
    got = api.get(f"/connections/{created['_id']}/ping")
    assert got.status_code == 200
    assert got.json() == {"code": 200}
    posted = api.post(f"/connections/{created['_id']}/ping", json={})
    assert posted.status_code == 200
    assert posted.json() == {"code": 200}
    assert api.get(f"/connections/{created['_id']}").json().get("offline") in (None, False)


def test_it_fails_a_ping_with_a_bad_key_and_sets_offline(api, sandbox_clean):
    body = http_connection(sandbox_clean.demo_url("shop"), "wrong-key")
    created = api.create("connections", body)
    response = api.post(f"/connections/{created['_id']}/ping", json={})
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["code"] == 401
    assert "401" in error["message"]
    assert "Invalid or missing API key" in error["message"]
    assert api.get(f"/connections/{created['_id']}").json()["offline"] is True


def test_it_brings_a_connection_back_online_after_a_good_ping(api, sandbox_clean):
    body = http_connection(sandbox_clean.demo_url("erp"), sandbox_clean.demo_keys["erp"])
    created = api.create("connections", {**body, "offline": True})
    assert api.get(f"/connections/{created['_id']}/ping").json() == {"code": 200}
    assert api.get(f"/connections/{created['_id']}").json()["offline"] is False


def test_it_fails_a_ping_to_a_closed_port(api):
    port = _closed_port()
    created = api.create("connections", http_connection(f"http://127.0.0.1:{port}", "k"))
    response = api.get(f"/connections/{created['_id']}/ping")
    error = response.json()["errors"][0]
    assert error["code"] == "ECONNREFUSED"
    assert f"127.0.0.1:{port}" in error["message"]
    assert api.get(f"/connections/{created['_id']}").json()["offline"] is True


def test_it_times_out_a_ping_to_a_slow_target(api, control, sandbox_clean):
    control.configure(ping_timeout_seconds=0.2)
    control.set_latency(1000, path="/_demo/shop/*")
    body = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    created = api.create("connections", body)
    error = api.get(f"/connections/{created['_id']}/ping").json()["errors"][0]
    assert error["code"] == "ETIMEDOUT"


def test_it_sends_the_token_in_the_query_or_basic_auth(api, sandbox_clean):
    erp_key = sandbox_clean.demo_keys["erp"]
    in_query = http_connection(sandbox_clean.demo_url("erp"), erp_key)
    in_query["http"]["auth"]["token"].update(location="url", paramName="api_key")
    basic = http_connection(sandbox_clean.demo_url("erp"), "")
    basic["http"]["auth"] = {"type": "basic", "basic": {"username": "u", "password": erp_key}}
    custom_header = http_connection(sandbox_clean.demo_url("erp"), erp_key)
    custom_header["http"]["auth"]["token"].update(headerName="X-Api-Key", scheme="")
    for body in (in_query, basic, custom_header):
        created = api.create("connections", body)
        assert api.get(f"/connections/{created['_id']}/ping").json() == {"code": 200}, body


def test_it_pings_a_rest_connection_with_its_ping_path(api, sandbox_clean):
    good = {
        "type": "rest",
        "name": "Legacy",
        "rest": {
            "baseURI": sandbox_clean.demo_url("shop"),
            "mediaType": "json",
            "authType": "token",
            "bearerToken": sandbox_clean.demo_keys["shop"],
            "tokenLocation": "url",
            "tokenParam": "api_key",
            "pingRelativeURI": "ping",
        },
    }
    created = api.create("connections", good)
    assert api.get(f"/connections/{created['_id']}/ping").json() == {"code": 200}
    wrong_path = {**good, "rest": {**good["rest"], "pingRelativeURI": "orders/none"}}
    created = api.create("connections", wrong_path)
    assert api.get(f"/connections/{created['_id']}/ping").json()["errors"][0]["code"] == 404


def test_it_checks_the_success_path_when_configured(api, sandbox_clean):
    body = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    body["http"]["ping"].update(successPath="app", successValues=["erp"])
    created = api.create("connections", body)
    assert "errors" in api.get(f"/connections/{created['_id']}/ping").json()
    body["http"]["ping"]["successValues"] = ["shop"]
    created = api.create("connections", body)
    assert api.get(f"/connections/{created['_id']}/ping").json() == {"code": 200}


def test_it_pings_a_virtual_connection_without_saving_it(api, sandbox_clean):
    # Conformance case 5.
    bad = http_connection(sandbox_clean.demo_url("shop"), "wrong")
    response = api.post("/connections/ping", json=bad)
    assert response.status_code == 200
    assert response.json()["errors"][0]["code"] == 401
    good = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    assert api.post("/connections/ping", json=good).json() == {"code": 200}
    assert api.get("/connections").status_code == 204


def test_it_can_answer_a_failed_ping_with_a_4xx(api, control, sandbox_clean):
    control.configure(ping_failure_status=422)
    bad = http_connection(sandbox_clean.demo_url("shop"), "wrong")
    response = api.post("/connections/ping", json=bad)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == 401


def test_it_decides_other_types_by_the_documented_rule(api):
    def netsuite(**fields):
        return {"type": "netsuite", "name": "NS", "netsuite": {"authType": "token", **fields}}

    good = api.create("connections", netsuite(account="1", tokenId="a", tokenSecret="b"))
    assert api.get(f"/connections/{good['_id']}/ping").json() == {"code": 200}
    invalid = api.create("connections", netsuite(account="1", tokenId="a", tokenSecret="invalid"))
    assert api.get(f"/connections/{invalid['_id']}/ping").json()["errors"][0]["code"] == 401
    missing = api.create("connections", netsuite(account="1", tokenId="a"))
    assert "errors" in api.get(f"/connections/{missing['_id']}/ping").json()
    ftp = {"type": "ftp", "name": "F", "ftp": {"type": "sftp", "hostURI": "h", "username": "u"}}
    ftp_ok = api.create("connections", {**ftp, "ftp": {**ftp["ftp"], "password": "p"}})
    assert api.get(f"/connections/{ftp_ok['_id']}/ping").json() == {"code": 200}
    ftp_bad = api.create("connections", {**ftp, "ftp": {**ftp["ftp"], "password": "invalid"}})
    assert api.get(f"/connections/{ftp_bad['_id']}/ping").json()["errors"][0]["code"] == 401


def test_it_lets_the_control_plane_force_a_ping_outcome(api, control, sandbox_clean):
    body = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    created = api.create("connections", body)
    control.force_ping_outcome(created["_id"], ok=False, code=401, message="expired", times=1)
    forced = api.get(f"/connections/{created['_id']}/ping").json()
    assert forced == {"errors": [{"code": 401, "message": "expired"}]}
    assert api.get(f"/connections/{created['_id']}/ping").json() == {"code": 200}


def test_a_url_with_credentials_beside_a_token_pings_with_the_token(api, sandbox_clean):
    # The connection's own Authorization wins over the URL's user and password; the sandbox
    # used to answer 500 (its HTTP client refuses the pair), which reads as "platform unwell".
    base = sandbox_clean.demo_url("shop").replace("://", "://user:not-the-key@", 1)
    created = api.create("connections", http_connection(base, sandbox_clean.demo_keys["shop"]))
    assert api.get(f"/connections/{created['_id']}/ping").json() == {"code": 200}

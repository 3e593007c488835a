"""The control plane: its own token, seed, reset, runtime settings, object listing."""

import requests

from sandbox import seed


def test_it_requires_the_control_token(sandbox_clean):
    url = sandbox_clean.base_url + "/_sandbox/objects"
    for token in (None, sandbox_clean.token, "nope"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        assert requests.get(url, headers=headers, timeout=5).status_code == 401


def test_it_seeds_the_demo_template_once_with_fixed_ids(sandbox_clean, api):
    control = sandbox_clean.control
    first = control.seed()
    assert first["created"] is True
    assert first["integrationId"] == seed.DEMO_INTEGRATION_ID
    assert first["connectionIds"] == {
        "shop": seed.DEMO_SHOP_CONNECTION_ID,
        "erp": seed.DEMO_ERP_CONNECTION_ID,
    }
    counts = control.counts()
    assert counts["integrations"] == 1
    assert counts["connections"] == 2
    assert counts["flows"] == 3
    assert counts["exports"] == 3
    assert counts["imports"] == 3
    second = control.seed()
    assert second["created"] is False
    assert control.counts() == counts
    integration = api.get(f"/integrations/{seed.DEMO_INTEGRATION_ID}").json()
    assert integration["name"] == seed.DEMO_INTEGRATION_NAME
    assert integration["settings"] == seed.DEMO_SETTINGS
    for app, connection_id in first["connectionIds"].items():
        connection = api.get(f"/connections/{connection_id}").json()
        assert connection["http"]["baseURI"] == sandbox_clean.demo_url(app)
        assert api.get(f"/connections/{connection_id}/ping").json() == {"code": 200}
    for flow_id in first["flowIds"]:
        flow = api.get(f"/flows/{flow_id}").json()
        assert flow["_integrationId"] == seed.DEMO_INTEGRATION_ID
        assert flow["disabled"] is True


def test_it_restores_missing_seed_objects(sandbox_clean, api):
    control = sandbox_clean.control
    control.seed()
    api.delete(f"/flows/{seed.DEMO_STOCK_FLOW_ID}")
    assert control.seed()["created"] is True
    assert api.get(f"/flows/{seed.DEMO_STOCK_FLOW_ID}").status_code == 200


def test_it_resets_objects_faults_and_settings(sandbox_clean, api):
    control = sandbox_clean.control
    control.seed()
    control.configure(page_size=3)
    control.inject_fault("error", path="/v1/flows")
    control.set_latency(10)
    control.reset()
    assert set(control.counts().values()) == {0}
    assert control.faults() == []
    assert control.config()["page_size"] == 100
    assert api.get("/flows").status_code == 204


def test_it_refuses_bad_runtime_settings(sandbox_clean):
    session = sandbox_clean.control.session
    url = sandbox_clean.base_url + "/_sandbox/config"
    for body in ({"page_size": 0}, {"port": 1}, {"rate_limit_burst": "many"}, {"hang_seconds": -1}):
        response = session.patch(url, json=body, timeout=5)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["code"] == "invalid_field"


def test_it_refuses_bad_fault_rules_and_outcomes(sandbox_clean):
    session = sandbox_clean.control.session
    base = sandbox_clean.base_url + "/_sandbox"
    for body in (
        {"mode": "explode"},
        {"mode": "error", "status": 404},
        {"mode": "hang", "probability": 2},
    ):
        assert session.post(base + "/faults", json=body, timeout=5).status_code == 422
    flow_id = sandbox_clean.control.seed()["flowIds"][0]
    for outcomes in (["exploded"], [{"numRecords": 1, "numError": 2}], "failed"):
        response = session.post(
            f"{base}/flows/{flow_id}/outcomes", json={"outcomes": outcomes}, timeout=5
        )
        assert response.status_code == 422, outcomes


def test_it_lists_objects_masked_unless_revealed(sandbox_clean):
    control = sandbox_clean.control
    control.seed()
    masked = control.objects("connections")
    assert masked["counts"] == {"connections": 2}
    tokens = [c["http"]["auth"]["token"]["token"] for c in masked["objects"]["connections"]]
    assert tokens == ["******", "******"]
    revealed = control.objects("connections", reveal=True)["objects"]["connections"]
    assert {c["http"]["auth"]["token"]["token"] for c in revealed} == set(
        sandbox_clean.demo_keys.values()
    )


def test_it_logs_requests(sandbox_clean, api):
    api.get("/integrations", params={"limit": 5})
    [entry] = [r for r in sandbox_clean.control.requests_log() if r["path"] == "/v1/integrations"]
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["query"] == "limit=5"
    assert entry["dropped"] is False

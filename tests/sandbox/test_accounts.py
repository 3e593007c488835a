"""One token, one account: each account sees only its own objects and jobs, and a token works
only in its own region (/v1 North America, /eu/v1 Europe). Accounts survive a restart."""

import time

import requests

from sandbox.seed import DEMO_INTEGRATION_ID
from sandbox.settings import DEFAULT_EU_API_TOKEN
from tests.fixtures.sandbox import SandboxProcess


def _call(method: str, url: str, token: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, url, headers=headers, timeout=5, **kwargs)


def test_it_keeps_each_tokens_objects_to_itself(sandbox_clean):
    sandbox = sandbox_clean
    sandbox.control.add_account("second-us-token", region="us")
    sandbox.control.seed()
    mine = _call("POST", f"{sandbox.api_url}/integrations", sandbox.token, json={"name": "A"})
    theirs = _call(
        "POST", f"{sandbox.api_url}/integrations", "second-us-token", json={"name": "B"}
    ).json()

    listed = _call("GET", f"{sandbox.api_url}/integrations", "second-us-token").json()
    assert [doc["_id"] for doc in listed] == [theirs["_id"]]
    url = f"{sandbox.api_url}/integrations/{mine.json()['_id']}"
    assert _call("GET", url, "second-us-token").status_code == 404
    assert _call("GET", url, sandbox.token).status_code == 200
    assert _call("GET", f"{sandbox.api_url}/connections", "second-us-token").status_code == 204
    template_flow = sandbox.control.seed()["flowIds"][0]
    run = _call("POST", f"{sandbox.api_url}/flows/{template_flow}/run", "second-us-token", json={})
    assert run.status_code == 404
    counts = sandbox.control.objects(account="second-us-token")["counts"]
    assert counts["integrations"] == 1 and counts["flows"] == 0


def test_a_token_works_only_in_its_region(sandbox_clean):
    sandbox = sandbox_clean
    sandbox.control.add_account("eu-only-token", region="eu")

    assert _call("GET", f"{sandbox.eu_api_url}/tokenInfo", "eu-only-token").status_code == 200
    assert _call("GET", f"{sandbox.api_url}/tokenInfo", "eu-only-token").status_code == 401
    assert _call("GET", f"{sandbox.eu_api_url}/tokenInfo", sandbox.token).status_code == 401
    # The start-up EU account (SANDBOX_EU_API_TOKENS) is there too.
    assert _call("GET", f"{sandbox.eu_api_url}/tokenInfo", DEFAULT_EU_API_TOKEN).status_code == 200


def test_an_account_is_in_one_region_only(sandbox_clean):
    sandbox_clean.control.add_account("one-region", region="eu")
    again = requests.post(
        f"{sandbox_clean.base_url}/_sandbox/accounts",
        json={"token": "one-region", "region": "us"},
        headers={"Authorization": f"Bearer {sandbox_clean.control_token}"},
        timeout=5,
    )
    assert again.status_code == 422
    assert "another region" in again.json()["errors"][0]["message"]


def test_a_reset_forgets_the_accounts_added_at_run_time(sandbox_clean):
    sandbox_clean.control.add_account("short-lived", region="us")
    sandbox_clean.control.reset()
    assert _call("GET", f"{sandbox_clean.api_url}/tokenInfo", "short-lived").status_code == 401


def test_every_account_survives_a_restart(tmp_path):
    state = tmp_path / "sandbox-state.json"
    process = SandboxProcess("--state", str(state), "--seed")
    try:
        eu_url = process.base_url + "/eu/v1/integrations"
        # --seed puts the demo template in the start-up EU account too.
        seeded = _call("GET", eu_url, DEFAULT_EU_API_TOKEN).json()
        assert DEMO_INTEGRATION_ID in [doc["_id"] for doc in seeded]
        kept = _call("POST", eu_url, DEFAULT_EU_API_TOKEN, json={"name": "EU kept"}).json()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "EU kept" not in (
            state.read_text() if state.exists() else ""
        ):
            time.sleep(0.1)
    finally:
        process.stop()

    process = SandboxProcess("--state", str(state))
    try:
        eu = _call("GET", process.base_url + "/eu/v1/integrations", DEFAULT_EU_API_TOKEN).json()
        us = _call("GET", process.base_url + "/v1/integrations", "dev-integrator-token").json()
        assert kept["_id"] in [doc["_id"] for doc in eu]
        assert kept["_id"] not in [doc["_id"] for doc in us]
    finally:
        process.stop()

"""State survives a restart with --state; --seed at start-up is idempotent."""

import json
import time

import requests

from sandbox.demo_oauth import DEMO_CRM_CLIENT_ID, DEMO_CRM_CLIENT_SECRET
from sandbox.seed import DEMO_INTEGRATION_ID
from sandbox.seed_crm import CRM_INTEGRATION_ID
from tests.fixtures.crm_oauth import tokens_by_code
from tests.fixtures.sandbox import SandboxProcess

TOKEN = {"Authorization": "Bearer dev-integrator-token"}
CLIENT = (DEMO_CRM_CLIENT_ID, DEMO_CRM_CLIENT_SECRET)


def test_it_keeps_the_state_across_a_restart(tmp_path):
    state = tmp_path / "var" / "sandbox-state.json"
    process = SandboxProcess("--state", str(state), "--seed")
    try:
        created = requests.post(
            process.base_url + "/v1/integrations", json={"name": "Kept"}, headers=TOKEN, timeout=5
        ).json()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "Kept" not in (
            state.read_text() if state.exists() else ""
        ):
            time.sleep(0.1)
        # Saved shortly after the write, not only on shutdown.
        saved = json.loads(state.read_text())
        assert created["_id"] in [doc["_id"] for doc in saved["collections"]["integrations"]]
    finally:
        process.stop()

    process = SandboxProcess("--state", str(state), "--seed")
    try:
        listed = requests.get(
            process.base_url + "/v1/integrations", headers=TOKEN, timeout=5
        ).json()
        # --seed seeds both demo templates (shop -> ERP and CRM -> ERP), once.
        assert sorted(doc["_id"] for doc in listed) == sorted(
            [created["_id"], DEMO_INTEGRATION_ID, CRM_INTEGRATION_ID]
        )
        assert "sandbox demo template integration: " + DEMO_INTEGRATION_ID in "".join(
            process.output
        )
    finally:
        process.stop()


def test_it_keeps_nothing_with_memory():
    process = SandboxProcess()
    try:
        response = requests.get(process.base_url + "/v1/integrations", headers=TOKEN, timeout=5)
        assert response.json() == []
    finally:
        process.stop()


def test_the_demo_crm_keeps_its_grants_across_a_restart(tmp_path):
    """A tenant connected to the demo CRM before `make run` stopped is still connected after
    it starts again: the grant, its tokens and its revocation are kept with the rest."""
    state = tmp_path / "var" / "sandbox-state.json"
    redirect = "http://127.0.0.1:9/connect/oauth/callback"
    process = SandboxProcess("--state", str(state))
    try:
        crm = process.base_url + "/_demo/crm"
        kept = tokens_by_code(crm, redirect_uri=redirect)
        revoked = tokens_by_code(crm, redirect_uri=redirect)
        assert requests.post(
            crm + "/oauth/revoke", data={"token": revoked["refresh_token"]}, auth=CLIENT, timeout=5
        ).ok
    finally:
        process.stop()

    process = SandboxProcess("--state", str(state))
    try:
        crm = process.base_url + "/_demo/crm"
        bearer = {"Authorization": f"Bearer {kept['access_token']}"}
        assert requests.get(crm + "/contacts", headers=bearer, timeout=5).status_code == 200
        refreshed = requests.post(
            crm + "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": kept["refresh_token"]},
            auth=CLIENT,
            timeout=5,
        )
        assert refreshed.status_code == 200, refreshed.text
        bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        assert requests.get(crm + "/ping", headers=bearer, timeout=5).status_code == 200

        again = requests.post(
            crm + "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": revoked["refresh_token"]},
            auth=CLIENT,
            timeout=5,
        )
        assert again.json()["error"] == "invalid_grant"
        bearer = {"Authorization": f"Bearer {revoked['access_token']}"}
        assert requests.get(crm + "/contacts", headers=bearer, timeout=5).status_code == 401
    finally:
        process.stop()

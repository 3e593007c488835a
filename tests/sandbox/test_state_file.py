"""State survives a restart with --state; --seed at start-up is idempotent."""

import json
import time

import requests

from sandbox.seed import DEMO_INTEGRATION_ID
from sandbox.seed_crm import CRM_INTEGRATION_ID
from tests.fixtures.sandbox import SandboxProcess

TOKEN = {"Authorization": "Bearer dev-integrator-token"}


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

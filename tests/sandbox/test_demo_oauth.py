"""The demo OAuth 2 provider (crm) and integrator.io's OAuth 2 connections in the sandbox:
consent, the code exchange with PKCE, short-lived tokens, refresh, revocation."""

import time

import pytest
import requests

from sandbox.demo_oauth import DEMO_CRM_CLIENT_ID, DEMO_CRM_CLIENT_SECRET
from sandbox.seed_crm import CRM_CONNECTION_ID, CRM_CONTACTS_FLOW_ID
from tests.fixtures.crm_oauth import consent, pkce_pair, query_of, tokens_by_code

REDIRECT = "http://127.0.0.1:9/connect/oauth/callback"
CLIENT = (DEMO_CRM_CLIENT_ID, DEMO_CRM_CLIENT_SECRET)


@pytest.fixture
def crm(sandbox_clean):
    return sandbox_clean.demo_url("crm")


def _authorize_url(crm: str, challenge: str, **overrides) -> str:
    params = {
        "response_type": "code",
        "client_id": DEMO_CRM_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "contacts.read",
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return requests.Request("GET", crm + "/oauth/authorize", params=params).prepare().url


def _exchange(crm: str, code: str, verifier: str, redirect: str = REDIRECT):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    return requests.post(crm + "/oauth/token", data=data, auth=CLIENT, timeout=5)


def test_the_consent_page_asks_and_echoes_the_state(crm):
    _, challenge = pkce_pair()
    page = requests.get(_authorize_url(crm, challenge), timeout=5)
    assert "Approve" in page.text and "Deny" in page.text and "Read your contacts" in page.text
    approved = query_of(consent(_authorize_url(crm, challenge)))
    assert approved["state"] == "st-123" and approved["code"].startswith("crmcode-")
    denied = query_of(consent(_authorize_url(crm, challenge), decision="deny"))
    assert denied == {
        "error": "access_denied",
        "error_description": "The user denied access.",
        "state": "st-123",
    }


def test_the_consent_page_refuses_a_request_without_pkce_or_with_an_unknown_client(crm):
    _, challenge = pkce_pair()
    for overrides in ({"code_challenge_method": "plain"}, {"client_id": "other"}):
        page = requests.get(_authorize_url(crm, challenge, **overrides), timeout=5)
        assert page.status_code == 400


def test_a_code_works_once_with_its_verifier_and_redirect_uri(crm):
    verifier, challenge = pkce_pair()
    code = query_of(consent(_authorize_url(crm, challenge)))["code"]
    assert _exchange(crm, code, "not-the-verifier").json()["error"] == "invalid_grant"
    code = query_of(consent(_authorize_url(crm, challenge)))["code"]
    assert _exchange(crm, code, verifier, "http://evil.test/cb").json()["error"] == "invalid_grant"

    code = query_of(consent(_authorize_url(crm, challenge)))["code"]
    tokens = _exchange(crm, code, verifier).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 300
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(crm + "/contacts", headers=bearer, timeout=5).status_code == 200
    # The replay fails and revokes what the code granted.
    assert _exchange(crm, code, verifier).json()["error"] == "invalid_grant"
    assert requests.get(crm + "/contacts", headers=bearer, timeout=5).status_code == 401


def test_access_tokens_expire_and_refresh_until_the_grant_is_revoked(sandbox_clean, crm):
    sandbox_clean.control.configure(crm_access_token_seconds=1)
    tokens = tokens_by_code(crm, redirect_uri=REDIRECT)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(crm + "/ping", headers=bearer, timeout=5).status_code == 200
    time.sleep(1.2)
    expired = requests.get(crm + "/ping", headers=bearer, timeout=5)
    assert expired.status_code == 401 and "invalid_token" in expired.headers["WWW-Authenticate"]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    fresh = requests.post(crm + "/oauth/token", data=refresh, auth=CLIENT, timeout=5).json()
    assert requests.get(
        crm + "/ping", headers={"Authorization": f"Bearer {fresh['access_token']}"}, timeout=5
    ).ok
    assert (
        requests.post(crm + "/oauth/token", data=refresh, auth=("x", "y"), timeout=5).status_code
        == 401
    )

    revoked = requests.post(
        crm + "/oauth/revoke", data={"token": tokens["refresh_token"]}, auth=CLIENT, timeout=5
    )
    assert revoked.status_code == 200
    again = requests.post(crm + "/oauth/token", data=refresh, auth=CLIENT, timeout=5)
    assert again.json()["error"] == "invalid_grant"


def _oauth_connection(crm: str, tokens: dict) -> dict:
    return {
        "type": "http",
        "name": "Tenant CRM",
        "http": {
            "baseURI": crm,
            "mediaType": "json",
            "ping": {"relativeURI": "/ping", "method": "GET"},
            "auth": {
                "type": "oauth",
                "oauth": {
                    "tokenURI": crm + "/oauth/token",
                    "clientId": DEMO_CRM_CLIENT_ID,
                    "clientSecret": DEMO_CRM_CLIENT_SECRET,
                },
                "token": {
                    "token": tokens["access_token"],
                    "refreshToken": tokens["refresh_token"],
                    "location": "header",
                    "headerName": "Authorization",
                    "scheme": "Bearer",
                },
            },
        },
    }


def test_a_connection_refreshes_its_expired_token_and_goes_offline_once_revoked(
    sandbox_clean, api, crm
):
    control = sandbox_clean.control
    control.configure(crm_access_token_seconds=1, job_queue_seconds=0, job_run_seconds=0)
    tokens = tokens_by_code(crm, redirect_uri=REDIRECT)
    body = _oauth_connection(crm, tokens)
    assert api.post("/connections/ping", json=body).status_code == 200
    connection = api.create("connections", body)
    assert connection["http"]["auth"]["token"]["refreshToken"] == "******"
    time.sleep(1.2)
    # The virtual ping of the expired token refreshes too (and keeps nothing).
    assert api.post("/connections/ping", json=body).status_code == 200
    assert api.post(f"/connections/{connection['_id']}/ping").status_code == 200
    stored = control.objects("connections", reveal=True)["objects"]["connections"]
    kept = next(c for c in stored if c["_id"] == connection["_id"])
    assert kept["http"]["auth"]["token"]["token"] != tokens["access_token"]
    assert not kept.get("offline")

    control.revoke_crm_grants()
    failed = api.post(f"/connections/{connection['_id']}/ping")
    # A failed ping is a 2xx with `errors` by default (docs/integrator-io.md).
    assert "Refreshing the OAuth 2 access token failed: 400 invalid_grant" in failed.text
    assert api.get(f"/connections/{connection['_id']}").json()["offline"] is True


def _run_until_done(api, flow_id: str) -> dict:
    job_id = api.post(f"/flows/{flow_id}/run").json()["_jobId"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "canceled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_flow_runs_keep_working_past_the_token_lifetime_until_the_grant_is_revoked(
    sandbox_clean, api, crm
):
    control = sandbox_clean.control
    control.configure(crm_access_token_seconds=1, job_queue_seconds=0, job_run_seconds=0)
    control.seed_crm()
    tokens = tokens_by_code(crm, redirect_uri=REDIRECT)
    current = api.get(f"/connections/{CRM_CONNECTION_ID}").json()
    body = _oauth_connection(crm, tokens)
    body["_integrationId"] = current["_integrationId"]
    assert api.put(f"/connections/{CRM_CONNECTION_ID}", json=body).status_code == 200
    for _ in range(3):
        assert _run_until_done(api, CRM_CONTACTS_FLOW_ID)["status"] == "completed"
        time.sleep(1.1)

    control.revoke_crm_grants()
    job = _run_until_done(api, CRM_CONTACTS_FLOW_ID)
    assert job["status"] == "failed"
    assert api.get(f"/connections/{CRM_CONNECTION_ID}").json()["offline"] is True

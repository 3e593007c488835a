"""OAuth 2 slots: the deployment's client for a slot, the app's consent URL, the code exchange,
and the tokens' way into the tenant's integrator.io connection.

The tokens pass through: they are written into the connection body, tested with integrator.io's
virtual ping and saved there (tenants.services.connections), and never kept, logged or shown
here. `OAuthTokens` hides them from `repr`, so a traceback or a debug log prints no token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from django.conf import settings

from core.encryption import DecryptionFailed
from core.sandbox_address import SANDBOX_URL, sandbox_public_url
from integrator.client import IntegratorClient
from tenants.errors import OAuthExchangeFailed, OAuthNotConfigured, SlotNotFound
from tenants.models import OAuthClientRecord, Tenant
from tenants.oauth_clients import oauth_client_record_secret
from tenants.services.connections import (
    ConnectionSubmitResult,
    connection_test_and_save,
    set_path,
    slot_connection_body,
)
from tenants.services.oauth_maps import is_oauth_slot, oauth_client_moved, oauth_maps

EXCHANGE_TIMEOUT_SECONDS = 10
# The token endpoint's errors about the client itself (RFC 6749 section 5.2), not the code.
CLIENT_REFUSED_ERRORS = ("invalid_client", "unauthorized_client")


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str = field(repr=False)
    # Where the secret may be sent: the app's token endpoint, as the client's owner named it.
    token_url: str = ""


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    scope: str = ""


def oauth_slot(tenant: Tenant, slot_key: str) -> dict:
    """The tenant's slot `slot_key`, which must be an OAuth slot (SlotNotFound otherwise)."""
    slot = tenant.template_version.slot(slot_key)
    if slot is None or not is_oauth_slot(slot):
        raise SlotNotFound(f"The template has no OAuth slot {slot_key!r}.")
    return slot


def oauth_client(slot: dict) -> OAuthClient:
    """The deployment's client for the slot's app: its admin-kept record when it has a secret
    (stored encrypted, tenants.oauth_clients), else OAUTH_CLIENTS, the environment's bootstrap
    and fallback.

    The client names its token URL and the slot must name the same one (OAuthNotConfigured
    otherwise, before anything is sent): the secret goes there by basic auth at the code
    exchange and into the tenant's connection for integrator.io's refreshes, so a template, which
    more people may edit than may read the secret, must not choose where it goes."""
    key = slot["oauth"]["client"]
    moved = oauth_client_moved(slot)
    if moved:
        # A template stored before templates were refused for it (template_validate).
        raise OAuthNotConfigured(
            f"The template's OAuth slot {slot['key']!r} maps {', '.join(moved)} against the "
            "rule (oauth.maps): the client's secret and token URL stay in their place, nothing "
            "else goes there, and a template may not move them: correct the template."
        )
    record = OAuthClientRecord.objects.filter(provider_key=key).first()
    if record is not None and record.client_secret_encrypted:
        try:
            secret = oauth_client_record_secret(record)
        except DecryptionFailed:
            raise OAuthNotConfigured(
                f"The OAuth client {key!r} has a secret this deployment cannot decrypt (its "
                "key left ENCRYPTION_KEYS before `manage.py rotate_encryption_key`): set it again."
            ) from None
        client = OAuthClient(
            client_id=record.client_id, client_secret=secret, token_url=record.token_url
        )
        where = "the admin's OAuth client"
    else:
        entry = settings.OAUTH_CLIENTS.get(key)
        if not entry:
            raise OAuthNotConfigured(
                f"No OAuth client {key!r} is configured for this deployment (OAUTH_CLIENTS)."
            )
        client = OAuthClient(
            client_id=entry["client_id"],
            client_secret=entry["client_secret"],
            # Development: the demo client's token URL is the sandbox's, wherever it runs.
            token_url=(entry.get("token_url") or "").replace(SANDBOX_URL, sandbox_public_url()),
        )
        where = "its OAUTH_CLIENTS entry"
    if not client.token_url:
        raise OAuthNotConfigured(
            f"The OAuth client {key!r} names no token URL, so its secret is sent nowhere: set "
            f"the app's token URL in {where}."
        )
    if slot["oauth"].get("token_url") != client.token_url:
        raise OAuthNotConfigured(
            f"The template's token URL for the OAuth client {key!r} is not the one set in "
            f"{where}: its secret is sent only there. Correct the template (or the client)."
        )
    return client


def oauth_authorization_url(*, slot: dict, state: str, challenge: str, redirect_uri: str) -> str:
    """The app's consent page for this slot: authorisation code flow with PKCE S256."""
    oauth = slot["oauth"]
    params = {
        "response_type": "code",
        "client_id": oauth_client(slot).client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if oauth.get("scopes"):
        params["scope"] = " ".join(oauth["scopes"])
    separator = "&" if "?" in oauth["authorize_url"] else "?"
    return oauth["authorize_url"] + separator + urlencode(params)


def oauth_code_exchange(*, slot: dict, code: str, verifier: str, redirect_uri: str) -> OAuthTokens:
    """Turn the code into tokens at the app's token URL (client authenticated by basic auth,
    RFC 6749 section 2.3.1). Raises OAuthExchangeFailed with the app's error code only: its
    description may repeat what was sent; OAuthNotConfigured when the app refuses the client
    itself (401, `invalid_client`, `unauthorized_client`). A redirect is not followed: it fails
    the exchange as any answer without tokens."""
    client = oauth_client(slot)
    try:
        response = requests.post(
            client.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client.client_id, client.client_secret),
            headers={"Accept": "application/json"},
            timeout=EXCHANGE_TIMEOUT_SECONDS,
            # A token endpoint answers (RFC 6749 section 3.2): followed, a 307 or 308 would
            # post the code and the verifier again to whatever server it names.
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise OAuthExchangeFailed(
            f"The app's token endpoint did not answer ({type(error).__name__})."
        ) from None
    try:
        answer = response.json()
    except (ValueError, json.JSONDecodeError):
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    if response.status_code != 200 or not isinstance(answer.get("access_token"), str):
        error = str(answer.get("error", ""))[:64] or f"HTTP {response.status_code}"
        if response.status_code == 401 or error in CLIENT_REFUSED_ERRORS:
            # Our client, not the customer's consent, is what the app refused (a secret
            # rotated at the app but not here, a mistyped one): no retry can help.
            raise OAuthNotConfigured(
                f"The app refused this deployment's OAuth client {slot['oauth']['client']!r} "
                f"({error}): check its client id and secret (the admin's OAuth client, or "
                "OAUTH_CLIENTS)."
            )
        raise OAuthExchangeFailed(f"The app refused the authorisation code: {error}.")
    return OAuthTokens(
        access_token=answer["access_token"],
        refresh_token=str(answer.get("refresh_token") or ""),
        scope=str(answer.get("scope") or ""),
    )


def tenant_oauth_connection_submit(
    *,
    tenant: Tenant,
    slot_key: str,
    tokens: OAuthTokens,
    client: IntegratorClient | None = None,
) -> ConnectionSubmitResult:
    """Write the tokens (and the deployment's client, for integrator.io's refreshes) into the
    slot's connection body, then test and save it as for typed credentials: nothing is saved
    unless integrator.io's ping works; a reconnect updates the same connection."""
    slot = oauth_slot(tenant, slot_key)
    oauth_app = oauth_client(slot)
    body = slot_connection_body(
        template=tenant.template_version, slot_key=slot_key, values={}, name=""
    )
    maps = oauth_maps(slot)
    values = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_url": oauth_app.token_url,
        "client_id": oauth_app.client_id,
        "client_secret": oauth_app.client_secret,
        "scope": list(slot["oauth"].get("scopes") or []),
    }
    for name, value in values.items():
        if value:
            set_path(body, maps[name], value)
    secrets = [tokens.access_token, tokens.refresh_token, oauth_app.client_secret]
    return connection_test_and_save(
        tenant=tenant,
        slot=slot,
        body=body,
        secret_values=[s for s in secrets if s],
        field_values={},
        client=client,
    )

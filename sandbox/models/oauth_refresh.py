"""OAuth 2 on http connections (`http.auth.type: "oauth"`): sending with the connection's
access token and refreshing it with its refresh token, as integrator.io does.

Where the pieces live in the connection (docs/integrator-io.md, "OAuth 2 connections"):
`http.auth.token.token` is the access token and is placed like a token connection's (a bearer
header by default); `http.auth.token.refreshToken` is the refresh token; `http.auth.oauth`
holds `tokenURI`, `clientId`, `clientSecret` and `clientCredentialsLocation` ("basicauth",
the default, or "body"). In a real account the client credentials and token URL may instead
sit in an iClient (`http._iClientId`); the sandbox reads them from the connection only.

When the target answers an auth failure (`http.auth.failStatusCode`, 401 by default) the
sandbox posts `grant_type=refresh_token` to the token URL, keeps the new access token (and a
rotated refresh token, if the answer has one) in the connection, and sends the request once
more (assumption: integrator.io refreshes on an auth failure, not ahead of `expires_in`). A
refresh that fails raises OAuthRefreshFailed: the caller reports the connection's call as
failed, and a saved connection's ping sets it offline.
"""

import json
from collections.abc import Callable

import aiohttp

from sandbox.models.outbound import OutboundRequest, TargetAnswer, TargetUnreachable, send

DEFAULT_FAIL_STATUS = 401


class OAuthRefreshFailed(Exception):
    def __init__(self, message: str, code: int | str = 401) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def uses_oauth(doc: dict) -> bool:
    return (
        doc.get("type") == "http"
        and ((doc.get("http") or {}).get("auth") or {}).get("type") == "oauth"
    )


async def send_authorized(
    session: aiohttp.ClientSession,
    doc: dict,
    build: Callable[[], OutboundRequest],
    *,
    timeout: float,
    on_refreshed: Callable[[], None] | None = None,
) -> TargetAnswer:
    """Send `build()`; for an OAuth connection whose token was refused, refresh and resend.
    Raises TargetUnreachable (no answer) or OAuthRefreshFailed."""
    answer = await send(session, build(), timeout=timeout)
    if not uses_oauth(doc) or answer.status != _fail_status(doc):
        return answer
    await refresh_access_token(session, doc, timeout=timeout)
    if on_refreshed is not None:
        on_refreshed()
    return await send(session, build(), timeout=timeout)


async def refresh_access_token(session: aiohttp.ClientSession, doc: dict, *, timeout: float):
    """Exchange the connection's refresh token for a new access token, written into `doc`."""
    auth = doc["http"]["auth"]
    oauth, token = auth.get("oauth") or {}, auth.setdefault("token", {})
    refresh, token_uri = token.get("refreshToken"), oauth.get("tokenURI")
    if not refresh or not token_uri:
        raise OAuthRefreshFailed(
            "The access token expired and the connection has no refresh token."
        )
    form = {"grant_type": "refresh_token", "refresh_token": str(refresh)}
    basic = None
    client_id, client_secret = (
        str(oauth.get("clientId") or ""),
        str(oauth.get("clientSecret") or ""),
    )
    if oauth.get("clientCredentialsLocation") == "body":
        form.update(client_id=client_id, client_secret=client_secret)
    else:
        basic = aiohttp.BasicAuth(client_id, client_secret)
    try:
        async with session.post(
            token_uri, data=form, auth=basic, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            status, text = response.status, await response.text(errors="replace")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise TargetUnreachable("ECONNREFUSED", f"Token refresh failed: {exc}") from None
    try:
        answer = json.loads(text)
    except ValueError:
        answer = {}
    if not 200 <= status < 300 or not isinstance(answer, dict) or not answer.get("access_token"):
        error = answer.get("error", "") if isinstance(answer, dict) else ""
        raise OAuthRefreshFailed(
            f"Refreshing the OAuth 2 access token failed: {status} {error}".strip(), status
        )
    token["token"] = answer["access_token"]
    if answer.get("refresh_token"):
        token["refreshToken"] = answer["refresh_token"]


def _fail_status(doc: dict) -> int:
    value = doc["http"]["auth"].get("failStatusCode")
    return value if isinstance(value, int) else DEFAULT_FAIL_STATUS

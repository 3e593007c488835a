"""The demo OAuth 2 provider "crm", served under /_demo/crm/, for the demo and for tests.

A small authorisation server and API, as most SaaS apps have one:

- `GET /_demo/crm/oauth/authorize`: the consent page (Approve / Deny) of the authorisation
  code flow; PKCE with S256 is required and `state` is echoed back to the redirect URI.
- `POST /_demo/crm/oauth/token`: `authorization_code` (code + `code_verifier` + the same
  `redirect_uri`) and `refresh_token` grants; client authentication by HTTP basic auth or
  `client_id`/`client_secret` in the body. Access tokens live `crm_access_token_seconds`
  (a runtime setting, 300 s by default); refresh tokens do not expire and are not rotated.
- `POST /_demo/crm/oauth/revoke`: revokes the whole grant of the token given (RFC 7009).
- `GET /_demo/crm/ping`, `GET /_demo/crm/contacts`: accept only a valid, unexpired bearer
  access token of a grant that was not revoked (401 `invalid_token` otherwise).

A code is single-use and lives 60 seconds; presenting a used code revokes the grant it made
(RFC 6749 section 4.1.2). Any http(s) redirect URI is accepted (a real provider checks it
against the client's registered ones; the demo runs on ports that tests pick). Grants and their
tokens are kept in the state file with everything else (`snapshot`, `restore`), so that a
tenant connected before a restart of `make run` stays connected, as with a real app; codes
(a minute's worth) are not. A reset forgets everything.
"""

import base64
import dataclasses
import hashlib
import html
import json
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from sandbox.web_keys import SANDBOX

# Demo values, not secrets: documented in sandbox/README.md, like the demo API keys.
DEMO_CRM_CLIENT_ID = "demo-crm-client"
DEMO_CRM_CLIENT_SECRET = "demo-crm-secret-not-a-secret"
CRM_SCOPES = {"contacts.read": "Read your contacts", "contacts.write": "Change your contacts"}
CODE_SECONDS = 60
CRM_CONTACTS = [
    {"id": "CRM-1", "name": "Ada Lovelace", "email": "ada@example.com"},
    {"id": "CRM-2", "name": "Katherine Johnson", "email": "katherine@example.com"},
]


@dataclasses.dataclass
class Grant:
    scope: str
    revoked: bool = False


@dataclasses.dataclass
class PendingCode:
    grant_id: str
    redirect_uri: str
    challenge: str
    expires_at: float
    used: bool = False


class CrmProvider:
    """Grants, codes and tokens of the demo provider.

    An access token's expiry is wall-clock time (`time.time()`), not the process's monotonic
    clock, so that it still means the same after a restart has read it back from the state
    file."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self.reset()

    def reset(self) -> None:
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, PendingCode] = {}
        self.access_tokens: dict[str, tuple[str, float]] = {}  # token -> (grant, expires at)
        self.refresh_tokens: dict[str, str] = {}  # token -> grant
        self.changed()

    # --- what the state file keeps ------------------------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in self._listeners:
            listener()

    def snapshot(self) -> dict:
        now = time.time()
        return {
            "grants": {gid: dataclasses.asdict(grant) for gid, grant in self.grants.items()},
            # An expired access token is refused either way: not worth keeping.
            "accessTokens": {
                token: [gid, expires_at]
                for token, (gid, expires_at) in self.access_tokens.items()
                if expires_at > now
            },
            "refreshTokens": dict(self.refresh_tokens),
        }

    def restore(self, snapshot: dict) -> None:
        self.grants = {gid: Grant(**kept) for gid, kept in snapshot.get("grants", {}).items()}
        self.codes = {}
        self.access_tokens = {
            token: (gid, float(expires_at))
            for token, (gid, expires_at) in snapshot.get("accessTokens", {}).items()
            if gid in self.grants
        }
        self.refresh_tokens = {
            token: gid
            for token, gid in snapshot.get("refreshTokens", {}).items()
            if gid in self.grants
        }

    # --- the provider ---------------------------------------------------------------------

    def approve(self, *, scope: str, redirect_uri: str, challenge: str) -> str:
        grant_id = secrets.token_hex(8)
        self.grants[grant_id] = Grant(scope=scope)
        self.changed()
        code = "crmcode-" + secrets.token_urlsafe(24)
        self.codes[code] = PendingCode(
            grant_id, redirect_uri, challenge, time.monotonic() + CODE_SECONDS
        )
        return code

    def issue(self, grant_id: str, *, lifetime: float, with_refresh: bool) -> dict:
        access = "crmat-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = (grant_id, time.time() + lifetime)
        answer = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "scope": self.grants[grant_id].scope,
        }
        if with_refresh:
            refresh = "crmrt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = grant_id
            answer["refresh_token"] = refresh
        self.changed()
        return answer

    def grant_of_access_token(self, token: str) -> str | None:
        grant_id, expires_at = self.access_tokens.get(token, ("", 0.0))
        if not grant_id or time.time() >= expires_at or self.grants[grant_id].revoked:
            return None
        return grant_id

    def revoke_token(self, token: str) -> None:
        grant_id = self.refresh_tokens.get(token) or self.access_tokens.get(token, ("", 0))[0]
        if grant_id:
            self.grants[grant_id].revoked = True
            self.changed()

    def revoke_all(self) -> int:
        live = [grant for grant in self.grants.values() if not grant.revoked]
        for grant in live:
            grant.revoked = True
        self.changed()
        return len(live)


def add_routes(router: web.UrlDispatcher) -> None:
    """Registered before the generic /_demo/{app}/... routes, which would match these paths."""
    router.add_get("/_demo/crm/oauth/authorize", authorize_page)
    router.add_post("/_demo/crm/oauth/authorize", authorize_decision)
    router.add_post("/_demo/crm/oauth/token", token)
    router.add_post("/_demo/crm/oauth/revoke", revoke)
    router.add_route("*", "/_demo/crm/ping", crm_ping)
    router.add_get("/_demo/crm/contacts", crm_contacts)


def _provider(request: web.Request) -> CrmProvider:
    return request.app[SANDBOX].crm


def _oauth_error(error: str, description: str, *, status: int = 400) -> web.Response:
    body = {"error": error, "error_description": description}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;background:#0f766e;margin:0;padding:32px}"
        "main{background:#fff;max-width:420px;margin:auto;padding:24px;border-radius:10px}"
        "button{font-size:16px;padding:10px 18px;margin-right:8px;border-radius:6px;"
        "border:1px solid #0f766e}.approve{background:#0f766e;color:#fff}</style>"
        f"</head><body><main>{body}</main></body></html>"
    )
    return web.Response(status=status, text=text, content_type="text/html")


def _authorize_problem(params) -> str | None:
    if params.get("response_type") != "code":
        return "response_type must be code."
    if params.get("client_id") != DEMO_CRM_CLIENT_ID:
        return "Unknown client_id."
    redirect = urlsplit(params.get("redirect_uri", ""))
    if redirect.scheme not in ("http", "https") or not redirect.netloc:
        return "redirect_uri must be an absolute http(s) URL."
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return "PKCE is required: code_challenge with code_challenge_method=S256."
    unknown = [s for s in params.get("scope", "").split() if s not in CRM_SCOPES]
    if unknown:
        return f"Unknown scope: {' '.join(unknown)}."
    return None


async def authorize_page(request: web.Request) -> web.Response:
    """The consent page. A bad client or redirect URI is shown here, never redirected to."""
    params = request.query
    problem = _authorize_problem(params)
    if problem:
        return _page(
            "Demo CRM", f"<h1>Cannot sign in</h1><p>{html.escape(problem)}</p>", status=400
        )
    asked = [CRM_SCOPES[s] for s in params.get("scope", "").split()] or ["Basic access"]
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(name)}' value='{html.escape(params[name])}'>"
        for name in ("client_id", "redirect_uri", "scope", "state", "code_challenge")
        if name in params
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in asked)
    body = (
        "<h1>Demo CRM</h1><p>An integration asks for access to your CRM account:</p>"
        f"<ul>{items}</ul><form method='post'>{hidden}"
        "<button class='approve' name='decision' value='approve'>Approve</button>"
        "<button name='decision' value='deny'>Deny</button></form>"
    )
    return _page("Demo CRM: allow access?", body)


async def authorize_decision(request: web.Request) -> web.Response:
    form = await request.post()
    params = {name: str(form.get(name, "")) for name in form}
    params.update(response_type="code", code_challenge_method="S256")
    problem = _authorize_problem(params)
    if problem:
        return _page(
            "Demo CRM", f"<h1>Cannot sign in</h1><p>{html.escape(problem)}</p>", status=400
        )
    answer: dict[str, str] = {}
    if params.get("decision") == "approve":
        answer["code"] = _provider(request).approve(
            scope=params.get("scope", ""),
            redirect_uri=params["redirect_uri"],
            challenge=params["code_challenge"],
        )
    else:
        answer.update(error="access_denied", error_description="The user denied access.")
    if params.get("state"):
        answer["state"] = params["state"]
    separator = "&" if "?" in params["redirect_uri"] else "?"
    raise web.HTTPFound(params["redirect_uri"] + separator + urlencode(answer))


def _client_authenticated(request: web.Request, form) -> bool:
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
    return client_id == DEMO_CRM_CLIENT_ID and client_secret == DEMO_CRM_CLIENT_SECRET


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def token(request: web.Request) -> web.Response:
    form = await request.post()
    if not _client_authenticated(request, form):
        return _oauth_error("invalid_client", "Client authentication failed.", status=401)
    provider = _provider(request)
    lifetime = request.app[SANDBOX].settings.crm_access_token_seconds
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        pending = provider.codes.get(str(form.get("code", "")))
        if pending is None or time.monotonic() >= pending.expires_at:
            return _oauth_error("invalid_grant", "The code is unknown or expired.")
        if pending.used:
            # A replayed code: revoke what it granted (RFC 6749 section 4.1.2).
            provider.grants[pending.grant_id].revoked = True
            provider.changed()
            return _oauth_error("invalid_grant", "The code was already used.")
        pending.used = True
        if form.get("redirect_uri") != pending.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri does not match.")
        if _s256(str(form.get("code_verifier", ""))) != pending.challenge:
            return _oauth_error("invalid_grant", "The PKCE code_verifier does not match.")
        answer = provider.issue(pending.grant_id, lifetime=lifetime, with_refresh=True)
    elif grant_type == "refresh_token":
        grant_id = provider.refresh_tokens.get(str(form.get("refresh_token", "")))
        if grant_id is None or provider.grants[grant_id].revoked:
            return _oauth_error("invalid_grant", "The refresh token is invalid or was revoked.")
        answer = provider.issue(grant_id, lifetime=lifetime, with_refresh=False)
    else:
        return _oauth_error("unsupported_grant_type", "Use authorization_code or refresh_token.")
    return web.Response(
        text=json.dumps(answer),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def revoke(request: web.Request) -> web.Response:
    form = await request.post()
    if not _client_authenticated(request, form):
        return _oauth_error("invalid_client", "Client authentication failed.", status=401)
    _provider(request).revoke_token(str(form.get("token", "")))
    return web.Response(status=200)


def _bearer_grant(request: web.Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    grant_id = (
        _provider(request).grant_of_access_token(value.strip())
        if scheme.lower() == "bearer"
        else None
    )
    if grant_id is None:
        raise web.HTTPUnauthorized(
            text=json.dumps(
                {"error": "invalid_token", "message": "Invalid or expired access token."}
            ),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return grant_id


async def crm_ping(request: web.Request) -> web.Response:
    _bearer_grant(request)
    return web.Response(
        text=json.dumps({"ok": True, "app": "crm"}), content_type="application/json"
    )


async def crm_contacts(request: web.Request) -> web.Response:
    _bearer_grant(request)
    return web.Response(text=json.dumps(CRM_CONTACTS), content_type="application/json")

"""Where an OAuth slot's tokens and client land in its integrator.io connection.

The defaults are what docs/integrator-io.md ("OAuth 2 connections") assumes for an http
connection of `http.auth.type` "oauth"; a template may move any of them (`oauth.maps`), e.g.
to a REST connection's `rest.bearerToken` and `rest.refreshToken`.
"""

DEFAULT_MAPS = {
    "access_token": "http.auth.token.token",
    "refresh_token": "http.auth.token.refreshToken",
    "token_url": "http.auth.oauth.tokenURI",
    "client_id": "http.auth.oauth.clientId",
    "client_secret": "http.auth.oauth.clientSecret",
    "scope": "http.auth.oauth.scope",
}


def is_oauth_slot(slot: dict) -> bool:
    return slot.get("kind") == "oauth"


def oauth_maps(slot: dict) -> dict[str, str]:
    """The slot's targets by name (none for a slot of typed fields)."""
    if not is_oauth_slot(slot):
        return {}
    return {**DEFAULT_MAPS, **(slot.get("oauth", {}).get("maps") or {})}

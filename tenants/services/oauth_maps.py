"""Where an OAuth slot's tokens and client land in its integrator.io connection.

The defaults are what docs/integrator-io.md ("OAuth 2 connections") assumes for an http
connection of `http.auth.type` "oauth"; a template may move the tokens, the client id and the
scope (`oauth.maps`), e.g. to a REST connection's `rest.bearerToken` and `rest.refreshToken`.

Not the client's secret, nor its token URL (`CLIENT_FIXED`): the secret is the deployment's,
and integrator.io sends it only to the token URL beside it, which is the client's own
(tenants.services.oauth_slots). Mapped to the bearer token, the secret would go with every
call to whatever base URI the template names; the token URL mapped elsewhere would leave in
the connection a token URL of the template's, for the refreshes to send the secret to.
"""

DEFAULT_MAPS = {
    "access_token": "http.auth.token.token",
    "refresh_token": "http.auth.token.refreshToken",
    "token_url": "http.auth.oauth.tokenURI",
    "client_id": "http.auth.oauth.clientId",
    "client_secret": "http.auth.oauth.clientSecret",
    "scope": "http.auth.oauth.scope",
}


# The client's parts that stay where DEFAULT_MAPS puts them.
CLIENT_FIXED = ("client_secret", "token_url")


def is_oauth_slot(slot: dict) -> bool:
    return slot.get("kind") == "oauth"


def oauth_maps(slot: dict) -> dict[str, str]:
    """The slot's targets by name (none for a slot of typed fields)."""
    if not is_oauth_slot(slot):
        return {}
    return {**DEFAULT_MAPS, **(slot.get("oauth", {}).get("maps") or {})}


def oauth_client_moved(slot: dict) -> list[str]:
    """The names whose map the slot may not have: one of CLIENT_FIXED moved from its place,
    or another value mapped onto theirs (written after them, it would take their place)."""
    maps = oauth_maps(slot)
    fixed = {DEFAULT_MAPS[name] for name in CLIENT_FIXED}
    return [
        name
        for name, target in maps.items()
        if (target != DEFAULT_MAPS[name] if name in CLIENT_FIXED else target in fixed)
    ]

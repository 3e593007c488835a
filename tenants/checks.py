"""System checks of tenants: an OAUTH_CLIENTS entry without its token URL is never used (the
client secret goes only to the token URL its owner named: tenants.services.oauth_slots), so the
customers of its OAuth slots would be told to contact support; say so at start-up instead."""

from django.conf import settings
from django.core import checks


@checks.register()
def oauth_clients_token_url_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Warning(
            f"OAUTH_CLIENTS[{key!r}] names no token_url: the client is not used (its secret is "
            "sent only to the token URL named with it), and OAuth slots of this client are "
            "refused.",
            hint=f'Add "token_url": "<the app\'s token endpoint>" to OAUTH_CLIENTS[{key!r}], '
            "or keep the client in the admin (OAuth clients).",
            id="tenants.W001",
        )
        for key, entry in settings.OAUTH_CLIENTS.items()
        if not entry.get("token_url")
    ]

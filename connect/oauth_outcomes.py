"""What the person connecting an OAuth slot reads after the app's consent page, by outcome.

The callback names the outcome in the form's URL (`?oauth=<outcome>&slot=<key>`); the text
lives here, so that a crafted URL can only pick one of these sentences, never inject one.
Every failure says that nothing was saved and how to try again.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

CONNECTED = "connected"

# Lazy: looked up in the language of the page that shows them (connect.language).
MESSAGES = {
    # "approve": the word of the form's own note ("You approve on {app}'s own page") and of
    # the demo app's consent button; a real app may say Allow, which approves just the same.
    "denied": _(
        "You did not approve access in {app}, so nothing was saved. To connect, click "
        "the button again and approve on {app}'s page."
    ),
    "provider_error": _(
        "{app} could not complete the sign-in. Nothing was saved; please try again."
    ),
    "expired": _(
        "This sign-in took too long or was already used. Nothing was saved; please "
        "click the Connect button again."
    ),
    "browser": _(
        "This sign-in was started in another browser window. Nothing was saved; please "
        "click the Connect button again here."
    ),
    "exchange_failed": _("{app} did not confirm the sign-in. Nothing was saved; please try again."),
    "not_working": _(
        "{app} signed you in, but the connection did not work when we checked it. "
        "Nothing was saved; please try again."
    ),
    "unavailable": _(
        "We cannot finish connecting right now. Nothing was saved; please try again in a minute."
    ),
    "too_many": _(
        "Too many sign-ins were started from this page. Nothing was saved; please wait a "
        "minute, then click the Connect button again."
    ),
    "not_configured": _(
        "Connecting to {app} is not available at the moment. Please contact support."
    ),
    "link_expired": _("This link has expired or was withdrawn. Ask for a new one."),
}

# A reconnect that did not go through leaves the slot's working connection as it was: say so,
# rather than leave the person wondering whether they just broke it.
CONNECTED_MESSAGES = {
    "denied": _(
        "You did not approve access in {app}, so your existing connection is unchanged. To "
        "reconnect, click the button again and approve on {app}'s page."
    ),
}
CONNECTION_KEPT = _("Your existing connection to {app} is unchanged.")


def outcome_message(outcome: str, *, app: str, connected: bool = False) -> str:
    """The sentence for a failed outcome; "" for success or an outcome we do not know.

    `connected`: the slot was connected before this consent (a reconnect)."""
    template = MESSAGES.get(outcome)
    if not template:
        return ""
    app = app or gettext("The app")
    if connected and outcome in CONNECTED_MESSAGES:
        return str(CONNECTED_MESSAGES[outcome]).format(app=app)
    message = str(template).format(app=app)
    if connected:
        return f"{message} {str(CONNECTION_KEPT).format(app=app)}"
    return message

"""What the person connecting an OAuth slot reads after the app's consent page, by outcome.

The callback names the outcome in the form's URL (`?oauth=<outcome>&slot=<key>`); the text
lives here, so that a crafted URL can only pick one of these sentences, never inject one.
Every failure says that nothing was saved and how to try again.
"""

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connect.template_texts import sentence_html

CONNECTED = "connected"
# The one failure that is a check of the new tokens: what the app answered it is kept on the
# slot, and the page shows it with the message. Any other failure happened before a check, so
# the slot's kept answer, if any, is an earlier check's, not this consent's.
NOT_WORKING = "not_working"

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
    "browser": _("This sign-in was started in another browser. Nothing was saved."),
    "exchange_failed": _("{app} did not confirm the sign-in. Nothing was saved; please try again."),
    NOT_WORKING: _(
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


def outcome_message(outcome: str, *, app: str, connected: bool = False) -> SafeString | str:
    """The sentence for a failed outcome, as HTML (the app's label, a template text, keeps
    its language mark: connect.template_texts); "" for success or an outcome we do not know.

    `connected`: the slot was connected before this consent (a reconnect)."""
    template = MESSAGES.get(outcome)
    if not template:
        return ""
    app = app or gettext("The app")
    if connected and outcome in CONNECTED_MESSAGES:
        return sentence_html(CONNECTED_MESSAGES[outcome], app=app)
    message = sentence_html(template, app=app)
    if connected:
        return format_html("{} {}", message, sentence_html(CONNECTION_KEPT, app=app))
    return message

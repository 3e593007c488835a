"""What the person connecting an OAuth slot reads after the app's consent page, by outcome.

The callback names the outcome in the form's URL (`?oauth=<outcome>&slot=<key>`); the text
lives here, so that a crafted URL can only pick one of these sentences, never inject one.
Every failure says that nothing was saved and how to try again.
"""

CONNECTED = "connected"

MESSAGES = {
    "denied": "You did not allow access in {app}, so nothing was saved. To connect, click "
    "the button again and choose Allow.",
    "provider_error": "{app} could not complete the sign-in. Nothing was saved; please try again.",
    "expired": "This sign-in took too long or was already used. Nothing was saved; please "
    "click the Connect button again.",
    "browser": "This sign-in was started in another browser window. Nothing was saved; please "
    "click the Connect button again here.",
    "exchange_failed": "{app} did not confirm the sign-in. Nothing was saved; please try again.",
    "not_working": "{app} signed you in, but the connection did not work when we checked it. "
    "Nothing was saved; please try again.",
    "unavailable": "We cannot finish connecting right now. Nothing was saved; please try again "
    "in a minute.",
    "not_configured": "Connecting to {app} is not available at the moment. Please contact support.",
    "link_expired": "This link has expired or was withdrawn. Ask for a new one.",
}


def outcome_message(outcome: str, *, app: str) -> str:
    """The sentence for a failed outcome; "" for success or an outcome we do not know."""
    template = MESSAGES.get(outcome)
    return template.format(app=app or "The app") if template else ""

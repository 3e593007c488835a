"""Per-form tokens: the cookie-free CSRF protection of the credential forms.

Each form carries a token that the server signed (HMAC with SECRET_KEY, via Django's signer)
over the link id and the slot the form is for. A POST is accepted only with a token that
verifies, names the same link and slot, and is not older than `MAX_AGE_SECONDS`. A page on
another site cannot read ours, so it cannot obtain a token, and needs no cookie to be stopped.
"""

from django.core import signing

_SALT = "connect.form-token"
# Longer than a link lives by default: the link's own expiry is the real bound; this only
# caps how long one rendered form stays usable.
MAX_AGE_SECONDS = 2 * 60 * 60


def form_token_issue(*, link_id: str, slot_key: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"link": link_id, "slot": slot_key})


def form_token_valid(*, token: str, link_id: str, slot_key: str) -> bool:
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign_object(token, max_age=MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError):
        return False
    return value == {"link": link_id, "slot": slot_key}

"""The `state` of an OAuth consent in progress: single-use, short-lived, bound to the link, the
slot and the browser that started it.

`oauth_state_issue` makes a random state and a PKCE verifier and keeps, in Redis under the
SHA-256 of the state (never the state itself), what the callback needs: the link, the slot,
the redirect URI the code is bound to, the SHA-256 of a browser nonce (a cookie set on the
popup that starts the consent), and the verifier and link token encrypted with the keys of
`core.encryption` (bound to that key). The entry expires after CONNECT_OAUTH_STATE_SECONDS,
and `oauth_state_take` deletes it as it reads it (GETDEL): a state works once, replayed or
late it finds nothing.

What a spent state stood for (its link's id and its slot, nothing secret) is kept for
SPENT_STATE_SECONDS (`oauth_state_spent`), so that the callback opened again (reloaded, or
from the history) can say what became of that sign-in, rather than that nothing was saved.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass, field

import redis
from django.conf import settings

from core.encryption import DecryptionFailed, decrypt, encrypt
from core.namespace import redis_key
from core.redis_state import state_redis

BROWSER_COOKIE_PREFIX = "connect_oauth_"
# How long a replayed callback is still recognised as the replay of a used sign-in: a day,
# as long as a browser's back button or history is likely to bring it back.
SPENT_STATE_SECONDS = 24 * 60 * 60


class OAuthStateUnavailable(Exception):
    """Redis did not answer: no consent can be started or finished right now."""


@dataclass(frozen=True)
class StartedConsent:
    state: str = field(repr=False)
    challenge: str
    browser_nonce: str = field(repr=False)


@dataclass(frozen=True)
class ConsentInProgress:
    link_id: str
    link_token: str = field(repr=False)
    slot_key: str
    redirect_uri: str
    mode: str  # "popup" or "top": how the consent page was opened
    verifier: str = field(repr=False)
    browser_hash: str = field(repr=False)
    back: str = ""  # "portal": started from the integration page, which the person returns to

    def browser_matches(self, nonce: str) -> bool:
        return secrets.compare_digest(self.browser_hash, _sha256(nonce))


@dataclass(frozen=True)
class SpentConsent:
    """What a used state stood for: the link and the slot its sign-in was for."""

    link_id: str
    slot_key: str


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def state_cookie_name(state: str) -> str:
    """The browser nonce's cookie, one per consent (two slots may be connected at once)."""
    return BROWSER_COOKIE_PREFIX + _sha256(state)[:16]


def _key(state_hash: str) -> str:
    return redis_key(f"connect:oauth-state:{state_hash}")


def _spent_key(state_hash: str) -> str:
    return redis_key(f"connect:oauth-spent:{state_hash}")


# Between a state's random part and the language of the page that started it.
LANGUAGE_SEPARATOR = "."


def oauth_state_issue(
    *,
    link_id: str,
    link_token: str,
    slot_key: str,
    redirect_uri: str,
    mode: str,
    back: str = "",
    language: str = "",
) -> StartedConsent:
    # The page's language rides in the state itself (not a secret: the link's `locale` or the
    # browser's), so that a state Redis no longer holds (spent, late, or Redis down) is still
    # answered in the language of the page it came from, not the browser's (state_language).
    state = secrets.token_urlsafe(32)
    if language:
        state += LANGUAGE_SEPARATOR + language
    verifier = secrets.token_urlsafe(64)
    nonce = secrets.token_urlsafe(32)
    state_hash = _sha256(state)
    sealed = encrypt(
        json.dumps({"verifier": verifier, "link_token": link_token}),
        context=f"connect-oauth-state:{state_hash}",
    )
    record = {
        "link": link_id,
        "slot": slot_key,
        "redirect_uri": redirect_uri,
        "mode": mode,
        "back": back,
        "browser": _sha256(nonce),
        "sealed": sealed,
    }
    try:
        state_redis().set(
            _key(state_hash), json.dumps(record), ex=settings.CONNECT_OAUTH_STATE_SECONDS
        )
    except redis.RedisError as error:
        raise OAuthStateUnavailable(str(type(error).__name__)) from None
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return StartedConsent(state=state, challenge=challenge, browser_nonce=nonce)


def state_language(state: str) -> str:
    """The language a state was issued in, as written in it ("" for none). Anyone may write
    a state: the caller activates only a language the service speaks (connect.language)."""
    if not state or len(state) > 200 or LANGUAGE_SEPARATOR not in state:
        return ""
    return state.rsplit(LANGUAGE_SEPARATOR, 1)[1]


def oauth_state_take(state: str) -> ConsentInProgress | None:
    """The consent `state` stands for, once; None if unknown, expired or already used."""
    if not state or len(state) > 200:
        return None
    state_hash = _sha256(state)
    try:
        raw = state_redis().getdel(_key(state_hash))
    except redis.RedisError as error:
        raise OAuthStateUnavailable(str(type(error).__name__)) from None
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        sealed = json.loads(decrypt(record["sealed"], context=f"connect-oauth-state:{state_hash}"))
    except (ValueError, KeyError, DecryptionFailed):
        return None
    spent = json.dumps({"link": record["link"], "slot": record["slot"]})
    # The state is taken all the same without it; a replay is then only told less.
    with contextlib.suppress(redis.RedisError):
        state_redis().set(_spent_key(state_hash), spent, ex=SPENT_STATE_SECONDS)
    return ConsentInProgress(
        link_id=record["link"],
        link_token=sealed["link_token"],
        slot_key=record["slot"],
        redirect_uri=record["redirect_uri"],
        mode=record["mode"],
        verifier=sealed["verifier"],
        browser_hash=record["browser"],
        # States issued before `back` existed have none: they return to the form, as before.
        back=record.get("back", ""),
    )


def oauth_state_spent(state: str) -> SpentConsent | None:
    """The link and slot of a state already taken (`oauth_state_take`), for a day; None for
    a state never issued, one that ran out unused, or one spent longer ago than that."""
    if not state or len(state) > 200:
        return None
    try:
        raw = state_redis().get(_spent_key(_sha256(state)))
    except redis.RedisError as error:
        raise OAuthStateUnavailable(str(type(error).__name__)) from None
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        return SpentConsent(link_id=record["link"], slot_key=record["slot"])
    except (ValueError, KeyError, TypeError):
        return None

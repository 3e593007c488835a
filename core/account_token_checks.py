"""What integrator.io last said of each account's API token, for people: accepted or refused,
and when. Learnt where a call is made anyway (never by a call of its own): `/readyz` asks
every account whose breaker is closed (`config/health.py`), and any call integrator.io answers
with 401 refuses the token it was made with (`core/integrator_client.py` `observed_calls`).
GET /api/v1/integrator/accounts and the admin's integrator.io accounts show it, so that an
account whose token is refused no longer reads as "set" with a closed breaker and nothing more
(a refused token does not open the breaker: integrator.io answered).

Kept in Redis, in the deployment's namespace, one key per account, for a week (a result says
its time, so an old one reads as old). A new token forgets the result: it was not the token
checked (`core.accounts.integrator_account_save`). Redis failing loses only this display.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from core.namespace import redis_key

logger = logging.getLogger(__name__)

ACCEPTED = "accepted"
REFUSED = "refused"
RESULTS = (ACCEPTED, REFUSED)

_KEEP_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class TokenCheck:
    """`result`: "accepted", "refused", or None (not checked since the token was set, or
    Redis cannot say); `checked_at`: when integrator.io said it."""

    result: str | None = None
    checked_at: datetime | None = None

    def as_dict(self) -> dict:
        return {"result": self.result, "checked_at": self.checked_at}

    @property
    def label(self) -> str:
        """For the admin: "refused by integrator.io at 2026-12-02 06:30 UTC"."""
        if self.result is None or self.checked_at is None:
            return "not checked yet (/readyz checks it)"
        return f"{self.result} by integrator.io at {self.checked_at:%Y-%m-%d %H:%M} UTC"


def _key(account_key: str) -> str:
    return redis_key(f"integrator:token-check:{account_key}")


def account_token_check_record(
    connection: redis.Redis, *, account_key: str, result: str, at: datetime | None = None
) -> None:
    """Remember that integrator.io `result` ("accepted" or "refused") the account's token."""
    if result not in RESULTS:
        raise ValueError(f"Not a token check's result: {result!r}")
    at = at or datetime.now(tz=UTC)
    value = json.dumps({"result": result, "at": at.timestamp()})
    try:
        connection.set(_key(account_key), value, ex=_KEEP_SECONDS)
    except redis.RedisError as error:
        logger.info(
            "integrator.io account %s: token check not kept, Redis failed: %s",
            account_key,
            type(error).__name__,
        )


def account_token_check_forget(connection: redis.Redis, *, account_key: str) -> None:
    """Forget what was said of the account's token (it was replaced)."""
    try:
        connection.delete(_key(account_key))
    except redis.RedisError as error:
        logger.info(
            "integrator.io account %s: old token check not forgotten, Redis failed: %s",
            account_key,
            type(error).__name__,
        )


def account_token_check(connection: redis.Redis, *, account_key: str) -> TokenCheck:
    """What integrator.io last said of the account's token (one Redis read, no call)."""
    try:
        raw = connection.get(_key(account_key))
    except redis.RedisError:
        return TokenCheck()
    if raw is None:
        return TokenCheck()
    try:
        value = json.loads(raw)
        result, at = value["result"], datetime.fromtimestamp(float(value["at"]), tz=UTC)
    except (ValueError, KeyError, TypeError):
        return TokenCheck()
    return TokenCheck(result=result if result in RESULTS else None, checked_at=at)

"""The sandbox's integrator.io accounts: one per API token, each with its own objects, jobs
and rate-limit bucket, in one of two regions.

integrator.io keeps an account's integrations, connections, flows and jobs to itself: a token
sees only its own account, and works only in its region (North America `/v1`, Europe `/eu/v1`
here, `api.eu.integrator.io` upstream). The sandbox does the same, so that a service that
sends a call with the wrong account's token, or to the wrong region, gets what integrator.io
would answer (401, or 404 for an object of another account) instead of a quiet success.

Accounts come from SANDBOX_API_TOKENS (North America, the first is the *default* one that
`--seed` and the control plane use unless told otherwise) and SANDBOX_EU_API_TOKENS (Europe),
and from `POST /_sandbox/accounts` at run time (those go on `/_sandbox/reset`).

Handlers reach the current request's account through `sandbox.store` / `sandbox.jobs`, which
read the context variable the middleware sets (`current_account`): one place decides which
account a request is for, and no handler can forget to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar

from sandbox.models.job_engine import JobEngine
from sandbox.models.store import Store
from sandbox.models.store_indexes import STORE_INDEXES
from sandbox.settings import SandboxSettings

US = "us"
EU = "eu"
REGIONS = (US, EU)


class Account:
    def __init__(self, token: str, region: str, settings: SandboxSettings, *, startup: bool):
        self.token = token
        self.region = region
        self.startup = startup
        self.store = Store(indexes=STORE_INDEXES)
        self.jobs = JobEngine(self.store, settings)

    def describe(self) -> dict:
        return {"token": self.token, "region": self.region, "counts": self.store.counts()}


current_account: ContextVar[Account | None] = ContextVar("sandbox_account", default=None)


class Accounts:
    """Every account by token; the state file keeps them all (`snapshot`, `restore`)."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._by_token: dict[str, Account] = {}
        self._listeners: list[Callable[[], None]] = []
        for token in settings.api_tokens:
            self.add(token, US, startup=True)
        for token in settings.eu_api_tokens:
            self.add(token, EU, startup=True)
        self.default = self._by_token[settings.api_tokens[0]]

    def __iter__(self) -> Iterator[Account]:
        return iter(list(self._by_token.values()))

    def get(self, token: str | None) -> Account | None:
        return self._by_token.get(token) if token else None

    def add(self, token: str, region: str, *, startup: bool = False) -> Account:
        """A new account for `token` (the same one again if it exists in that region)."""
        if region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}")
        existing = self._by_token.get(token)
        if existing is not None:
            if existing.region != region:
                raise ValueError("this token already belongs to an account in another region")
            return existing
        account = self._by_token[token] = Account(token, region, self.settings, startup=startup)
        for listener in self._listeners:
            account.store.on_change(listener)
        self.changed()
        return account

    def configure(self, settings: SandboxSettings) -> None:
        self.settings = settings
        for account in self:
            account.jobs.settings = settings

    def reset(self) -> None:
        """Forget every object and the accounts added at run time."""
        for token, account in list(self._by_token.items()):
            if not account.startup:
                del self._by_token[token]
            account.store.clear()
            account.jobs.reset()

    # --- what the state file keeps ------------------------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
        for account in self:
            account.store.on_change(listener)

    def changed(self) -> None:
        for listener in self._listeners:
            listener()

    def snapshot(self) -> dict:
        """The default account's store as before (older state files load unchanged), and
        every other account under `accounts`."""
        return {
            **self.default.store.snapshot(),
            "accounts": {
                account.token: {"region": account.region, "store": account.store.snapshot()}
                for account in self
                if account is not self.default
            },
        }

    def restore(self, snapshot: dict) -> None:
        self.default.store.restore(snapshot)
        for token, kept in snapshot.get("accounts", {}).items():
            account = self.get(token) or self.add(token, kept["region"])
            account.store.restore(kept["store"])

"""integrator.io accounts: the default one of the settings, the others kept in the database,
each with its region's API URL and its API token encrypted at rest.

A token is encrypted with core.encryption under the context `integrator-account-token:<row
id>`: a ciphertext copied into another account's row does not decrypt there, so whoever can
write the database cannot move one account's token to another. It is never shown back, never
logged, never in an API answer: the admin says only "set" or "not set".

The default account (`is_default`) is the deployment's single account of old: made on first
use (or by tenants' migration 0010) with no token stored, it takes INTEGRATOR_API_TOKEN and
INTEGRATOR_API_URL from the environment for as long as no token is stored in its row, so a
deployment configured by environment keeps working unchanged and its token is never written
to the database. Setting a token in the admin moves it into the row (encrypted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction

from core.account_token_checks import account_token_check_forget
from core.encryption import (
    DecryptionFailed,
    column_reencrypt,
    decrypt,
    encrypt,
    key_id_of,
    keyring,
)
from core.errors import DependencyUnavailableError, InvalidInputError
from core.models import IntegratorAccount, IntegratorRegion
from core.signals import integrator_account_saved

DEFAULT_ACCOUNT_KEY = "default"


# How an operator stores an account's token, for the messages that ask for one. Worded so that
# the log's redaction (core.redaction) leaves it whole: "token" followed by a word reads as a
# credential to it. The command works while the web process refuses to start.
_TOKEN_STORE_HOW = (
    "run `python manage.py integrator_account <account>` with the new one in "
    "INTEGRATOR_ACCOUNT_TOKEN, or use the account's page in the admin"
)
# When no key opens a stored token, the web process, the worker and beat refuse to start
# (account_tokens_verify): the admin is not there to set one, only the command is.
TOKEN_STORE_COMMAND = (
    "run `python manage.py integrator_account <account>` with the new one in "
    "INTEGRATOR_ACCOUNT_TOKEN; not the admin, which is not served while a stored one cannot "
    "be read"
)


class AccountTokenUnavailable(DependencyUnavailableError):
    """The account has no token, or no configured key opens the stored one: an operator must
    act (start-up refuses the second case, so it is met only if a row changed since)."""

    code = "integrator_token_unavailable"


class IntegratorAccountInvalid(InvalidInputError):
    """Settings an account cannot have (`fields` says which): nothing was saved."""


# integrator.io's own API hosts, by region: an override naming the other region's is a mistake.
_INTEGRATOR_HOSTS = {
    "api.integrator.io": IntegratorRegion.US,
    "api.eu.integrator.io": IntegratorRegion.EU,
}


def _context(account: IntegratorAccount) -> str:
    return f"integrator-account-token:{account.pk}"


def region_of_url(url: str) -> str:
    """The region an API URL is in: `api.eu.integrator.io`, or a sandbox's `/eu/v1`, is the
    EU; everything else North America (the default account's region when it is made)."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    if host.startswith("api.eu.") or path.rstrip("/").endswith("/eu/v1"):
        return IntegratorRegion.EU
    return IntegratorRegion.US


def integrator_account_default() -> IntegratorAccount:
    """The default account, made on first use from the settings (no token stored). While it
    takes its URL from INTEGRATOR_API_URL, its region follows that URL too (a deployment
    moved to the EU host by its environment is an EU account)."""
    account = IntegratorAccount.objects.filter(is_default=True).first()
    if account is not None:
        region = region_of_url(settings.INTEGRATOR_API_URL)
        if not account.api_url and account.region != region:
            IntegratorAccount.objects.filter(pk=account.pk).update(region=region)
            account.region = region
        return account
    try:
        with transaction.atomic():
            return IntegratorAccount.objects.create(
                key=DEFAULT_ACCOUNT_KEY,
                name="Default account",
                region=region_of_url(settings.INTEGRATOR_API_URL),
                is_default=True,
            )
    except IntegrityError:  # a concurrent first use made it
        return IntegratorAccount.objects.get(is_default=True)


def account_api_url(account: IntegratorAccount) -> str:
    """The account's API base URL: its override, else INTEGRATOR_API_URL for the default
    account, else its region's URL from settings."""
    if account.api_url:
        return account.api_url
    if account.is_default:
        return settings.INTEGRATOR_API_URL
    if account.region == IntegratorRegion.EU:
        return settings.INTEGRATOR_EU_API_URL
    return settings.INTEGRATOR_US_API_URL


def account_token(account: IntegratorAccount) -> str:
    """The account's API token in clear, for the client only. Raises AccountTokenUnavailable
    when none is set or no configured key opens it (start-up checks the latter first)."""
    if account.token_encrypted:
        try:
            return decrypt(account.token_encrypted, context=_context(account))
        except DecryptionFailed as error:
            raise AccountTokenUnavailable(
                f"The API token of integrator.io account {account.key!r} cannot be read ({error}): "
                f"restore its key in ENCRYPTION_KEYS, or store a new API token for it "
                f"({account_token_fix(account)}).",
            ) from None
    if account.is_default:
        return settings.INTEGRATOR_API_TOKEN
    raise AccountTokenUnavailable(
        f"integrator.io account {account.key!r} has no API token: to set one, "
        f"{account_token_fix(account)}."
    )


def account_token_source(account: IntegratorAccount) -> str:
    """For people: "set" (stored, encrypted), "unreadable" (stored, but no configured key
    opens it here: a key dropped too soon, or a value copied from another row), "environment"
    (the default account's INTEGRATOR_API_TOKEN) or "not set". Never the token."""
    if account.token_encrypted:
        try:
            decrypt(account.token_encrypted, context=_context(account))
        except DecryptionFailed:
            return "unreadable"
        return "set"
    return "environment" if account.is_default else "not set"


def account_token_fix(account: IntegratorAccount) -> str:
    """For an operator whose account's token integrator.io refused: where that token comes
    from and how to replace it (never the token)."""
    if account_token_source(account) == "environment":
        return (
            f"set INTEGRATOR_API_TOKEN (which integrator.io account {account.key!r} reads) to a "
            "valid API token of that account"
        )
    return _TOKEN_STORE_HOW.replace("<account>", account.key)


def account_rate_limit(account: IntegratorAccount) -> tuple[int, float]:
    """(burst, per second) of the account's bucket: its own, else the settings'."""
    return (
        account.rate_limit_burst or settings.INTEGRATOR_RATE_LIMIT_BURST,
        account.rate_limit_per_second or settings.INTEGRATOR_RATE_LIMIT_PER_SECOND,
    )


def integrator_account_save(
    *,
    key: str,
    name: str,
    region: str,
    token: str | None = None,
    api_url: str = "",
    rate_limit_per_second: float | None = None,
    rate_limit_burst: int | None = None,
) -> IntegratorAccount:
    """Create or update an account; `token=None` keeps the stored one, "" removes it.
    Raises IntegratorAccountInvalid (integrator_account_check) and saves nothing when a
    setting is not one an account can have."""
    with transaction.atomic():
        current = IntegratorAccount.objects.select_for_update().filter(key=key).first()
        integrator_account_check(
            account=current,
            key=key,
            name=name,
            region=region,
            api_url=api_url,
            rate_limit_per_second=rate_limit_per_second,
            rate_limit_burst=rate_limit_burst,
            token=token,
        )
        account, created = IntegratorAccount.objects.select_for_update().get_or_create(
            key=key, defaults={"name": name, "region": region}
        )
        before = None if created else _settings_of(account, token_state="set")
        account.name, account.region, account.api_url = name, region, api_url
        account.rate_limit_per_second = rate_limit_per_second
        account.rate_limit_burst = rate_limit_burst
        token_state = "set"
        if token is not None:
            # Encrypted once the row exists: the context names its id.
            account.token_encrypted = encrypt(token, context=_context(account)) if token else ""
            token_state = "set (new)" if token else ""
        account.save()
        # What integrator.io said of the token it had (or of its URL) no longer holds.
        transaction.on_commit(lambda: _token_check_forget(account.key))
        integrator_account_saved.send(
            sender=IntegratorAccount,
            account=account,
            created=created,
            before=before,
            after=_settings_of(account, token_state=token_state),
        )
    return account


def _token_check_forget(account_key: str) -> None:
    connection = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=2.0, socket_connect_timeout=2.0
    )
    try:
        account_token_check_forget(connection, account_key=account_key)
    finally:
        connection.close()


def integrator_account_check(
    *,
    account: IntegratorAccount | None,
    key: str,
    name: str,
    region: str,
    api_url: str = "",
    rate_limit_per_second: float | None = None,
    rate_limit_burst: int | None = None,
    token: str | None = None,
) -> None:
    """Raise IntegratorAccountInvalid, naming each field, unless `account` (None: a new one
    with `key`) may be saved with these settings: the model's own rules (a slug key of at
    most 32 characters, a known region, an http(s) URL as core.http_urls checks every URL the
    service calls, in its words), a rate limit the bucket can run
    (above 0 per second, a burst of at least 1: integrator.rate_limit refuses anything else,
    and every call of the account would fail), and a region that stays while templates or
    tenants are on the account: their integrations live in that region's integrator.io, and
    a customer placed there for data residency must not be reported, or joined, elsewhere.

    `token` is the one given with the change (None or "": none). An existing account sent to
    a new API URL override needs it: the token it has (stored, or the default account's
    INTEGRATOR_API_TOKEN) is write-only and goes in every call's Authorization header, so
    keeping it would hand it to whatever address was typed. The settings' own URLs (no
    override) keep it."""
    candidate = IntegratorAccount(
        key=key,
        name=name,
        region=region,
        api_url=api_url,
        rate_limit_per_second=rate_limit_per_second,
        rate_limit_burst=rate_limit_burst,
    )
    fields: dict[str, list[str]] = {}
    try:
        candidate.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        fields.update({name: list(messages) for name, messages in error.message_dict.items()})
    if rate_limit_per_second is not None and not (
        math.isfinite(rate_limit_per_second) and rate_limit_per_second > 0
    ):
        fields.setdefault("rate_limit_per_second", []).append(
            "Must be above 0 (empty: INTEGRATOR_RATE_LIMIT_PER_SECOND)."
        )
    if rate_limit_burst is not None and rate_limit_burst < 1:
        fields.setdefault("rate_limit_burst", []).append(
            "Must be at least 1 (empty: INTEGRATOR_RATE_LIMIT_BURST)."
        )
    host_region = _INTEGRATOR_HOSTS.get((urlsplit(api_url).hostname or "").lower())
    if host_region and host_region != region and not ({"api_url", "region"} & set(fields)):
        fields["api_url"] = [
            f"This is integrator.io's API in {IntegratorRegion(host_region).label}, and the "
            f"account's region is {IntegratorRegion(region).label}: a token works only in its "
            "own region."
        ]
    if (
        account is not None
        and api_url
        and "api_url" not in fields
        and api_url != account_api_url(account)
        and not token
        and (account.token_encrypted or account.is_default)
    ):
        fields["token"] = [
            "Type the API token again to change the API URL: the account's token is sent to "
            "the address it calls, and is kept only for the address it was given for."
        ]
    if token and any(character.isspace() for character in token.strip()):
        # integrator.io's tokens have none: "Bearer …", or two things pasted at once, would be
        # stored and every call of the account would fail with a 401, far from where it was
        # typed. The value is not repeated: it is a secret, or holds one.
        fields["token"] = [
            "An API token has no spaces or line breaks in it: paste the token alone (not "
            '"Bearer …").'
        ]
    moved = account is not None and region != account.region and "region" not in fields
    if moved and (account.templates.exists() or account.tenants.exists()):
        fields["region"] = [
            f"Stays {account.region!r}: templates or tenants are on this account, and their "
            "integrations live in that region. Add an account in the other region instead."
        ]
    if fields:
        raise IntegratorAccountInvalid(
            f"integrator.io account {key!r} was not saved: {', '.join(sorted(fields))} not valid.",
            fields=fields,
        )


def _settings_of(account: IntegratorAccount, *, token_state: str) -> dict:
    """What the audit log may show of an account: its settings, and of its token only whether
    one is stored and whether it was just replaced (integrator_account_saved)."""
    return {
        "key": account.key,
        "name": account.name,
        "region": account.region,
        "api_url": account.api_url,
        "rate_limit_per_second": account.rate_limit_per_second,
        "rate_limit_burst": account.rate_limit_burst,
        "token": token_state if account.token_encrypted else "",
    }


def integrator_account_deletable(account: IntegratorAccount) -> bool:
    """Whether the account may be deleted: not the default one, and nothing on it (templates,
    tenants, orphans keep their account for good: PROTECT)."""
    return not (
        account.is_default
        or account.templates.exists()
        or account.tenants.exists()
        or account.orphans.exists()
    )


def integrator_account_usage(account: IntegratorAccount) -> str:
    """In words, what keeps the account from being deleted (`integrator_account_deletable`),
    for the ops person who came to delete it and found no Delete: its templates, its tenants
    (deprovisioned ones too, whose rows keep their account for their history) and orphans."""
    if account.is_default:
        return "The default account: never deleted."
    counts = [
        (account.templates.count(), "template", "templates"),
        (account.tenants.count(), "tenant", "tenants"),
        (account.orphans.count(), "orphan", "orphans"),
    ]
    if not any(count for count, _, _ in counts):
        return "Nothing is on it: it can be deleted."
    held = ", ".join(f"{count} {one if count == 1 else many}" for count, one, many in counts)
    return (
        f"{held}: it cannot be deleted while any of them is on it (a tenant stays on its "
        "account for good, deprovisioned ones too)."
    )


def integrator_accounts_list() -> list[IntegratorAccount]:
    """Every account, the default first (made if missing)."""
    integrator_account_default()
    return list(IntegratorAccount.objects.all())


def integrator_account_get(*, key: str) -> IntegratorAccount:
    return IntegratorAccount.objects.get(key=key)


def account_tokens_reencrypt() -> tuple[int, list[str]]:
    """Re-encrypt every stored token not yet under the newest key (key rotation):
    (re-encrypted, the accounts whose token no configured key opens, to be set again)."""
    return column_reencrypt(
        IntegratorAccount.objects.all(),
        field="token_encrypted",
        context=_context,
        label=lambda account: account.key,
    )


@dataclass(frozen=True)
class UnreadableToken:
    account: str
    key_id: str
    reason: str


def account_tokens_unreadable() -> list[UnreadableToken]:
    """The stored tokens that ENCRYPTION_KEYS does not open (a key missing or wrong)."""
    found = []
    for account in IntegratorAccount.objects.exclude(token_encrypted=""):
        try:
            decrypt(account.token_encrypted, context=_context(account))
        except DecryptionFailed as error:
            try:
                key_id = key_id_of(account.token_encrypted)
            except DecryptionFailed:
                key_id = "?"
            found.append(UnreadableToken(account.key, key_id, str(error)))
    return found


def account_tokens_verify() -> None:
    """Stop start-up (ImproperlyConfigured) when a stored account token cannot be read with
    ENCRYPTION_KEYS: every call to that account would fail later, one by one, and quietly.
    Nothing to check while no table or no stored token exists (before migrating)."""
    from django.db import DatabaseError

    try:
        problem = account_tokens_unreadable_problem()
    except DatabaseError:
        return  # not migrated yet (or no database): `migrate` runs first, then we check
    if problem:
        raise ImproperlyConfigured(problem)


def account_tokens_unreadable_problem() -> str:
    """What is wrong with the stored tokens ENCRYPTION_KEYS does not open, and what to do, for
    an operator (start-up, `rotate_encryption_key`); "" when every one opens. A key that is
    missing can be put back; a key id that opens none of its tokens may be another key given
    that id (put the right one back) or altered values (new tokens), and both are said; a value
    that the key opening the others does not open was altered or copied from another
    account's row, and only a new token helps."""
    unreadable = account_tokens_unreadable()
    if not unreadable:
        return ""

    def names(items: list[UnreadableToken]) -> str:
        return ", ".join(f"{item.account!r} (key id {item.key_id!r})" for item in items)

    configured = keyring().keys
    # A configured key id that opens none of the tokens under it may be another key given that
    # id (a .env written again), which AES-GCM cannot tell from altered values: both are said.
    # A key that opens some of them is the right one: those it does not were altered.
    unreadable_names = {item.account for item in unreadable}
    opening = {
        key_id_of(account.token_encrypted)
        for account in IntegratorAccount.objects.exclude(token_encrypted="")
        if account.key not in unreadable_names
    }
    missing = [item for item in unreadable if item.key_id not in configured]
    altered = [item for item in unreadable if item.key_id in opening]
    unsure = [
        item for item in unreadable if item.key_id in configured and item.key_id not in opening
    ]
    problems = []
    if missing:
        problems.append(
            f"ENCRYPTION_KEYS does not open the stored API token of integrator.io account(s) "
            f"{names(missing)}: the key is missing or wrong. Put the key that encrypted them "
            "back in ENCRYPTION_KEYS (several keys may be listed, the first encrypts), or store "
            f"a new API token for each ({TOKEN_STORE_COMMAND})."
        )
    if unsure:
        problems.append(
            f"ENCRYPTION_KEYS does not open the stored API token of integrator.io account(s) "
            f"{names(unsure)}, though that key is configured: either the key under that id is "
            "not the one that encrypted them (another key given the same id; it opens none of "
            "the stored tokens under that id): put that one back in ENCRYPTION_KEYS under its "
            "id; or the stored value was altered, or copied from another account's row (a "
            f"token is bound to its account): store a new API token for each "
            f"({TOKEN_STORE_COMMAND})."
        )
    if altered:
        problems.append(
            f"ENCRYPTION_KEYS does not open the stored API token of integrator.io account(s) "
            f"{names(altered)}, though that key is configured: the stored value was altered, "
            "or copied from another account's row (a token is bound to its account). Store a "
            f"new API token for each ({TOKEN_STORE_COMMAND})."
        )
    return " ".join(problems)

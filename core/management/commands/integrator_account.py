"""`manage.py integrator_account KEY --name N --region us|eu [--api-url URL]`: add or change an
integrator.io account from a shell (the admin does the same). The token is read from the
environment variable named by --token-env (default INTEGRATOR_ACCOUNT_TOKEN) or, without it,
from standard input, never from the command line (it would stay in the shell's history and
the process list). `--keep-token` changes the rest and keeps the token; `--environment-token`
takes the default account back to INTEGRATOR_API_TOKEN, removing the token stored for it.
Runs without the system checks, so that an account whose token no key opens can be given a
new one.
"""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from core.accounts import (
    DEFAULT_ACCOUNT_KEY,
    IntegratorAccountInvalid,
    account_token_source,
    integrator_account_default,
    integrator_account_save,
)
from core.models import IntegratorAccount, IntegratorRegion


class Command(BaseCommand):
    help = "Add or change an integrator.io account; its token comes from the environment or stdin."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "key",
            help="The account's key: a slug of at most 32 characters, fixed once made "
            "(`default` is the account INTEGRATOR_API_TOKEN and INTEGRATOR_API_URL configure).",
        )
        parser.add_argument(
            "--name",
            help="Its name for people (a new account's default: its key; a changed one keeps "
            "its own).",
        )
        parser.add_argument(
            "--region",
            choices=IntegratorRegion.values,
            help="Where its integrations live; needed for a new account, refused as a change "
            "once a template or tenant is on it.",
        )
        parser.add_argument("--api-url", default=None, help="Override the region's API URL.")
        parser.add_argument(
            "--token-env",
            default="INTEGRATOR_ACCOUNT_TOKEN",
            help="The environment variable holding the API token (default: "
            "INTEGRATOR_ACCOUNT_TOKEN); while it is unset or empty, the token is read from "
            "standard input, never from the command line.",
        )
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--keep-token", action="store_true", help="Change the rest, keep the stored token."
        )
        source.add_argument(
            "--environment-token",
            action="store_true",
            help="The default account only: read its token from INTEGRATOR_API_TOKEN, as it "
            "does until one is stored (removes the stored one).",
        )

    def handle(
        self,
        *args,
        key,
        name,
        region,
        api_url,
        token_env,
        keep_token,
        environment_token,
        **options,
    ):
        # Made on first use: `integrator_account default` before any use would otherwise make
        # an ordinary account named "default" beside it.
        integrator_account_default()
        current = IntegratorAccount.objects.filter(key=key).first()
        if environment_token and not (current and current.is_default):
            # Another account's token in the environment would be the default account's too,
            # and INTEGRATOR_API_TOKEN is read by the default account only.
            raise CommandError(
                f"Only the default account ({DEFAULT_ACCOUNT_KEY!r}) reads its token from the "
                f"environment (INTEGRATOR_API_TOKEN); {key!r} needs its own, stored: set "
                f"{token_env} or pipe it on standard input."
            )
        if current is None and not region:
            raise CommandError("A new account needs --region (us or eu).")
        # "" removes the stored token (integrator_account_save): the default account then
        # reads INTEGRATOR_API_TOKEN again.
        token = "" if environment_token else None
        if keep_token and not (current and (current.token_encrypted or current.is_default)):
            # Nothing to keep: saved, the account had no token and every call of it failed
            # ("not set"). The default account without a stored one keeps reading
            # INTEGRATOR_API_TOKEN, which --keep-token keeps.
            raise CommandError(
                f"integrator.io account {key!r} has no API token to keep: give it one (set "
                f"{token_env} or pipe it on standard input) and leave out --keep-token."
            )
        if keep_token and current and account_token_source(current) == "unreadable":
            # Start-up sends the operator here for such a token: kept, it stops start-up again.
            raise CommandError(
                f"The stored API token of integrator.io account {key!r} cannot be read with "
                f"ENCRYPTION_KEYS (its key is missing or wrong, or the value was altered), so "
                f"there is nothing usable to keep: give it a new one (set {token_env} or pipe "
                "it on standard input) and leave out --keep-token, or put the key that "
                "encrypted it back in ENCRYPTION_KEYS."
            )
        if not (keep_token or environment_token):
            token = os.environ.get(token_env) or (
                "" if sys.stdin.isatty() else sys.stdin.readline().strip()
            )
            if not token:
                raise CommandError(
                    f"No token: set {token_env} or pipe it on standard input (or --keep-token)."
                )
        try:
            account = integrator_account_save(
                key=key,
                name=name or (current.name if current else key),
                region=region or current.region,
                api_url=current.api_url if api_url is None and current else (api_url or ""),
                token=token,
                rate_limit_per_second=current.rate_limit_per_second if current else None,
                rate_limit_burst=current.rate_limit_burst if current else None,
            )
        except IntegratorAccountInvalid as error:
            problems = [f"  {field}: {m}" for field, ms in error.fields.items() for m in ms]
            raise CommandError("\n".join([error.message, *problems])) from None
        if token:
            kept = "; token stored encrypted."
        elif account.token_encrypted:
            kept = "; token kept."
        else:
            kept = "; its token is INTEGRATOR_API_TOKEN, read from the environment (none stored)."
        self.stdout.write(f"integrator.io account {account.key!r} ({account.region}) saved{kept}")

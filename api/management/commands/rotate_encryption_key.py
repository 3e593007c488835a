"""`manage.py rotate_encryption_key`: re-encrypt every value kept encrypted in the database
under the newest key of ENCRYPTION_KEYS (the first), so that the older keys can be removed.

Rotation: generate a key (`manage.py generate_encryption_key --id k2`), put it first in
ENCRYPTION_KEYS and restart (the older keys still decrypt), run this command, then drop the
older keys. It lives in `api` because it reaches every app that keeps encrypted values (the
stored API responses here, the OAuth client secrets in tenants, the integrator.io account
tokens in core). A consent in progress's PKCE
verifier in Redis is not rewritten: it lives CONNECT_OAUTH_STATE_SECONDS, so wait that long
before dropping a key. Safe to run again; it prints counts, never a value.
"""

from django.core.management.base import BaseCommand, CommandError

from api.idempotency import idempotency_responses_reencrypt
from core.accounts import account_tokens_reencrypt, account_tokens_unreadable_problem
from core.encryption import keyring
from tenants.oauth_clients import oauth_client_secrets_reencrypt


class Command(BaseCommand):
    requires_system_checks = []  # it must run when a stored token cannot be read
    help = "Re-encrypt every encrypted value under the first key of ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        primary = keyring().primary
        secrets, unreadable_secrets = oauth_client_secrets_reencrypt()
        tokens, unreadable_tokens = account_tokens_reencrypt()
        responses, unreadable_responses = idempotency_responses_reencrypt()
        self.stdout.write(
            f"Re-encrypted under key {primary!r}: {secrets} OAuth client secret(s), "
            f"{tokens} integrator.io account token(s), {responses} stored API response(s)."
        )
        if unreadable_responses:
            self.stdout.write(
                f"{unreadable_responses} stored API response(s) no configured key opens: left "
                "as they are (they expire within 24 hours)."
            )
        problems = []
        if unreadable_secrets:
            problems.append(
                "No configured key opens the secret of OAuth client(s) "
                f"{', '.join(unreadable_secrets)}: set it again in the admin."
            )
        if unreadable_tokens:
            # As start-up says it (a key to put back, or a value no key will ever open), and
            # not "in the admin": the web process refuses to start while one is unreadable.
            problems.append(account_tokens_unreadable_problem())
        if problems:
            raise CommandError(" ".join(problems))

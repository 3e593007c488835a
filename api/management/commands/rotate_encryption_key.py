"""`manage.py rotate_encryption_key`: re-encrypt every value kept encrypted in the database
under the newest key of ENCRYPTION_KEYS (the first), so that the older keys can be removed.

Rotation: generate a key (`manage.py generate_encryption_key --id k2`), put it first in
ENCRYPTION_KEYS and restart (the older keys still decrypt), run this command, then drop the
older keys (api.encryption_rotation re-encrypts, and records it in the audit log). A consent in
progress's PKCE verifier in Redis is not rewritten: it lives CONNECT_OAUTH_STATE_SECONDS, so
wait that long before dropping a key. Safe to run again; it prints counts, never a value.
"""

from django.core.management.base import BaseCommand, CommandError

from api.encryption_rotation import encryption_rotate
from core.accounts import account_tokens_unreadable_problem


class Command(BaseCommand):
    requires_system_checks = []  # it must run when a stored token cannot be read
    help = (
        "Re-encrypt every encrypted value under the first key of ENCRYPTION_KEYS. Before: "
        "put a new key (`manage.py generate_encryption_key`) first in ENCRYPTION_KEYS, the "
        "old ones after it, and restart the web, worker and beat. After: wait "
        "CONNECT_OAUTH_STATE_SECONDS, then drop the old keys. Safe to run again, after an "
        "interrupted run too; it prints counts, never a value."
    )

    def handle(self, *args, **options):
        done = encryption_rotate()
        self.stdout.write(
            f"Re-encrypted under key {done.key_id!r}: {done.oauth_client_secrets} OAuth client "
            f"secret(s), {done.account_tokens} integrator.io account token(s), "
            f"{done.api_responses} stored API response(s)."
        )
        if done.unreadable_api_responses:
            self.stdout.write(
                f"{done.unreadable_api_responses} stored API response(s) no configured key "
                "opens: left as they are (they expire within 24 hours)."
            )
        problems = []
        if done.unreadable_oauth_clients:
            problems.append(
                "No configured key opens the secret of OAuth client(s) "
                f"{', '.join(done.unreadable_oauth_clients)}: set it again in the admin."
            )
        if done.unreadable_account_tokens:
            # As start-up says it (a key to put back, or a value no key will ever open), and
            # not "in the admin": the web process refuses to start while one is unreadable.
            problems.append(account_tokens_unreadable_problem())
        if problems:
            raise CommandError(" ".join(problems))

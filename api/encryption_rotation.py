"""Key rotation: every value the service keeps encrypted, re-encrypted under the newest key.

It lives in `api` because it reaches every app that keeps encrypted values (the stored API
responses here, the OAuth client secrets in tenants, the integrator.io account tokens in
core)."""

from dataclasses import dataclass

from api.idempotency import idempotency_responses_reencrypt
from audit.services import Target, audit_record
from core.accounts import account_tokens_reencrypt
from core.encryption import keyring
from tenants.oauth_clients import oauth_client_secrets_reencrypt


@dataclass(frozen=True)
class Rotation:
    key_id: str
    oauth_client_secrets: int
    unreadable_oauth_clients: list[str]
    account_tokens: int
    unreadable_account_tokens: list[str]
    api_responses: int
    unreadable_api_responses: int


def encryption_rotate() -> Rotation:
    """Re-encrypt every encrypted value under the first key of ENCRYPTION_KEYS, and record
    it in the audit log (the key's id and the counts; never a key or a value). Safe to run
    again: what is already under the newest key is left alone."""
    primary = keyring().primary
    secrets, unreadable_secrets = oauth_client_secrets_reencrypt()
    tokens, unreadable_tokens = account_tokens_reencrypt()
    responses, unreadable_responses = idempotency_responses_reencrypt()
    audit_record(
        action="encryption_key.rotate",
        target=Target("encryption_key", primary),
        after={
            "oauth_clients": secrets,
            "integrator_accounts": tokens,
            "api_responses": responses,
            "unreadable": len(unreadable_secrets) + len(unreadable_tokens) + unreadable_responses,
        },
    )
    return Rotation(
        key_id=primary,
        oauth_client_secrets=secrets,
        unreadable_oauth_clients=unreadable_secrets,
        account_tokens=tokens,
        unreadable_account_tokens=unreadable_tokens,
        api_responses=responses,
        unreadable_api_responses=unreadable_responses,
    )

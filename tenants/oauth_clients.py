"""The host's OAuth clients kept in the database (admin-editable), their secrets encrypted.

An `OAuthClientRecord` wins over OAUTH_CLIENTS for its app; the setting stays the bootstrap and
the fallback (a deployment configured by environment only keeps working). The secret is
encrypted with core.encryption under the context `oauth-client-secret:<row id>`: a ciphertext
copied into another app's row does not decrypt there, so a database writer cannot swap one
app's secret for another's. It is never shown back, never logged.
"""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from core.encryption import column_reencrypt, decrypt, encrypt
from tenants.errors import OAuthClientInvalid
from tenants.models import OAuthClientRecord


def _context(record: OAuthClientRecord) -> str:
    return f"oauth-client-secret:{record.pk}"


def oauth_client_record_save(
    *,
    provider_key: str,
    client_id: str,
    client_secret: str | None = None,
    token_url: str | None = None,
) -> OAuthClientRecord:
    """Create or update the app's client; `client_secret=None` keeps the stored one,
    `token_url=None` the stored token URL.

    The token URL is where the secret goes (the code exchange, integrator.io's refreshes):
    moving it needs the secret typed again (OAuthClientInvalid otherwise), so that whoever
    decides where the secret goes is someone who holds it, not anyone who may edit this row."""
    with transaction.atomic():
        record, created = OAuthClientRecord.objects.select_for_update().get_or_create(
            provider_key=provider_key, defaults={"client_id": client_id}
        )
        if (
            token_url is not None
            and token_url != record.token_url
            and record.client_secret_encrypted
            and not client_secret
        ):
            raise OAuthClientInvalid(
                f"The token URL of the OAuth client {provider_key!r} is where its secret is "
                "sent: type the client secret again to change it."
            )
        before = {} if created else {"client_id": record.client_id}
        after = {"client_id": client_id}
        if token_url is not None:
            if not created:
                before["token_url"] = record.token_url
            after["token_url"] = token_url
            record.token_url = token_url
        if client_secret is not None:
            # Compared encrypted: the audit log says the secret changed, never what it is.
            before["client_secret"] = "" if created else record.client_secret_encrypted
            after["client_secret"] = client_secret
        record.client_id = client_id
        if client_secret is not None:
            # Encrypted after the row exists: the context names its id.
            record.client_secret_encrypted = (
                encrypt(client_secret, context=_context(record)) if client_secret else ""
            )
        record.save()
        if created or before != after:  # saved again as it was: nothing to record
            audit_record(
                action="oauth_client.create" if created else "oauth_client.update",
                target=record,
                before=before,
                after=after,
            )
    return record


def oauth_client_record_secret(record: OAuthClientRecord) -> str:
    """The decrypted secret ("" when none is set); raises DecryptionFailed when its key was
    removed from ENCRYPTION_KEYS or the value was moved or altered."""
    if not record.client_secret_encrypted:
        return ""
    return decrypt(record.client_secret_encrypted, context=_context(record))


def oauth_client_secrets_reencrypt() -> tuple[int, list[str]]:
    """Re-encrypt every stored secret not yet under the newest key (key rotation):
    (re-encrypted, the apps whose secret no configured key opens, to be set again)."""
    return column_reencrypt(
        OAuthClientRecord.objects.all(),
        field="client_secret_encrypted",
        context=_context,
        label=lambda record: record.provider_key,
    )

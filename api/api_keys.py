"""The use cases of API keys: make one with its scopes and expiry, change what it may do.

The key itself (hash, prefix, name, expiry, revocation) is djangorestframework-api-key's
`APIKey`; what it may do and when it was last used is our `ApiKeyGrant`, made in the same
transaction, so that no key exists without its grant when made here.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.models import ApiKeyGrant
from api.scopes import ALL_SCOPES
from audit.services import Target, audit_record
from core.errors import InvalidInputError

NAME_MAX_LENGTH = 50  # APIKey.name's column


def scopes_clean(*, scopes: Iterable[str]) -> list[str]:
    """The scopes in their canonical order, without repeats; InvalidInputError naming any that
    does not exist and listing those that do."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise InvalidInputError(
            f"Unknown scope{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"The scopes are: {', '.join(ALL_SCOPES)}.",
            fields={"scopes": [f"Unknown scope: {scope}" for scope in unknown]},
        )
    return [scope for scope in ALL_SCOPES if scope in wanted]


def api_key_create(
    *, name: str, scopes: Iterable[str], expires_at: datetime | None = None
) -> tuple[APIKey, str]:
    """A new key with its grant; returns the row and the key in clear, which is never stored
    and must be shown once."""
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInputError(
            f"A key's name is 1 to {NAME_MAX_LENGTH} characters.", fields={"name": ["Invalid."]}
        )
    scopes = scopes_clean(scopes=scopes)
    if not scopes:
        raise InvalidInputError(
            "A key needs at least one scope.", fields={"scopes": ["At least one scope."]}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInputError(
            "The expiry must be in the future.", fields={"expires_at": ["In the past."]}
        )
    with transaction.atomic():
        # The library's create_key, with the scopes handed to the audit receiver
        # (api.api_key_audit): the key's one `api_key.create` event says what it may do.
        api_key = APIKey(name=name, expiry_date=expires_at)
        key = APIKey.objects.assign_key(api_key)
        api_key._audit_scopes = scopes
        api_key.save()
        ApiKeyGrant.objects.create(api_key=api_key, scopes=scopes)
    return api_key, key


def api_key_scopes_set(*, api_key: APIKey, scopes: Iterable[str]) -> ApiKeyGrant:
    """Replace what the key may do; it holds from the key's next request, in every process."""
    scopes = scopes_clean(scopes=scopes)
    with transaction.atomic():
        before = ApiKeyGrant.objects.filter(api_key=api_key).values_list("scopes", flat=True)
        # A key without a grant (made by the library directly) had no scope: granting it
        # some is a change like any other. A new key's scopes are in its `api_key.create`.
        before = next(iter(before), [])
        grant, _ = ApiKeyGrant.objects.update_or_create(
            api_key=api_key, defaults={"scopes": scopes}
        )
        if before != scopes:
            audit_record(
                action="api_key.scopes_change",
                target=Target("api_key", api_key.prefix),
                before={"scopes": before},
                after={"scopes": scopes},
            )
    return grant


def api_key_revoke(*, api_key: APIKey) -> bool:
    """Revoke the key, for good (recorded as api_key.revoke by api.api_key_audit). False when it
    already was: nothing changes."""
    with transaction.atomic():
        current = APIKey.objects.select_for_update().get(pk=api_key.pk)
        if current.revoked:
            return False
        current.revoked = True
        current.save()
    api_key.revoked = True
    return True


def api_key_update(
    *,
    api_key: APIKey,
    name: str,
    expires_at: datetime | None,
    revoked: bool,
    scopes: Iterable[str],
) -> APIKey:
    """Change a key's name, expiry, revocation (for good: the library refuses to undo it) and
    scopes together."""
    scopes = scopes_clean(scopes=scopes)
    with transaction.atomic():
        api_key.name = name.strip()
        api_key.expiry_date = expires_at
        api_key.revoked = revoked
        api_key.save()
        api_key_scopes_set(api_key=api_key, scopes=scopes)
    return api_key

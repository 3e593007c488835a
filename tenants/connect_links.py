"""Signed, expiring, revocable links to a tenant's credential form.

A link is `/connect/<token>/`. The token is signed with SECRET_KEY (django.core.signing, with
its own salt) and carries the link's id, the tenant, and the slot and return URL it was made
for; the `ConnectLink` row is the authority on expiry and revocation.

Resolving a token that does not work tells apart only what its signature proves:
- the signature fails (malformed, tampered with, guessed, signed with another key):
  ConnectLinkInvalid. Nothing is looked up, so a guesser learns nothing about which links
  exist, not even from how long the answer takes;
- the signature verifies, so we issued it and its holder had a real link, but the link has
  expired, was revoked, or its tenant is gone: ConnectLinkExpired (a subclass). The holder
  learns only what they already knew, that the link was real, and what to do: ask for a new one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_supported_language_variant

from audit.services import audit_record, snapshot
from core.errors import InvalidInputError
from tenants.errors import (
    ConnectLinkExpired,
    ConnectLinkInvalid,
    ConnectLinkNotFound,
    ConnectLinkNotRevocable,
    SlotNotInTemplate,
    TenantGone,
)
from tenants.models import ConnectLink, PortalSection, Tenant
from tenants.services.oauth_maps import is_oauth_slot
from tenants.services.tenants import GONE_STATUSES, origin_normalize

SALT = "tenants.connect-link"
DEFAULT_EXPIRES_IN = timedelta(minutes=30)
# A reconnect link the service makes itself (in a `connection.failed` webhook): the host
# forwards it to its customer, by mail perhaps, so it must outlive a working day, yet no more.
RECONNECT_EXPIRES_IN = timedelta(hours=24)
MIN_EXPIRES_IN = timedelta(minutes=1)
MAX_EXPIRES_IN = timedelta(days=7)
_MAX_TOKEN_LENGTH = 4096
# What the API shows of a link's life: it opens (active), or no longer does because time ran
# out (expired) or someone revoked it (revoked, which wins over expired).
LINK_STATES = ("active", "expired", "revoked")
PORTAL_SECTIONS = tuple(PortalSection.values)
# A language tag as links carry it: "de", "en", "pt-br" (BCP 47's language and region).
_LOCALE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


@dataclass(frozen=True)
class IssuedLink:
    link: ConnectLink
    token: str
    path: str
    # For a link made for one OAuth slot: where it goes straight to the app's consent.
    consent_path: str | None = None

    @property
    def expires_at(self) -> datetime:
        return self.link.expires_at


def connect_link_path(token: str, *, portal: bool = False) -> str:
    # The form's URL name ("connect:form") belongs to the credential-form pages; the path is
    # built here so that links can be issued before those pages exist. A portal link's page
    # is connect:portal.
    return f"/connect/{token}/portal/" if portal else f"/connect/{token}/"


def connect_link_consent_path(token: str, slot_key: str) -> str:
    # The path of connect:oauth_consent, built here for the reason connect_link_path says.
    return f"/connect/{token}/oauth/{slot_key}/consent"


def connect_link_create(
    *,
    tenant: Tenant,
    slot_key: str = "",
    return_url: str = "",
    expires_in: timedelta = DEFAULT_EXPIRES_IN,
    sections: list[str] | None = None,
    read_only: bool = False,
    locale: str = "",
) -> IssuedLink:
    """Issue a link for the tenant (optionally for one slot).

    `return_url` must be on one of the tenant's `allowed_origins`; `expires_in` is bounded to
    between one minute and seven days. With `sections` (some of PORTAL_SECTIONS) the link
    opens the customer's integration page showing them; `read_only` refuses every change made
    through it; `locale` is the language of its pages (one the service speaks).
    """
    sections, locale = link_options_validate(
        sections=sections, read_only=read_only, locale=locale, slot_key=slot_key
    )
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; it takes no new credentials.")
    if slot_key and tenant.template_version.slot(slot_key) is None:
        raise SlotNotInTemplate(
            f"The template {tenant.template.key!r} has no slot {slot_key!r}.",
            fields={"slot": [f"Not a slot of {tenant.template.key}."]},
        )
    if not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
        raise InvalidInputError(
            "expires_in is out of bounds.",
            fields={
                "expires_in": [
                    f"Must be between {int(MIN_EXPIRES_IN.total_seconds())} and "
                    f"{int(MAX_EXPIRES_IN.total_seconds())} seconds."
                ]
            },
        )
    if return_url and return_url_origin(return_url) not in tenant.allowed_origins:
        raise InvalidInputError(
            "return_url is not on one of the tenant's allowed origins.",
            fields={"return_url": ["Must start with one of the tenant's allowed_origins."]},
        )
    link = ConnectLink.objects.create(
        id=uuid.uuid4(),
        tenant=tenant,
        slot_key=slot_key,
        return_url=return_url,
        expires_at=timezone.now() + expires_in,
        sections=sections,
        read_only=read_only,
        locale=locale,
    )
    # The link's token is never recorded: it opens the credential form.
    audit_record(
        action="connect_link.create",
        target=link,
        tenant=tenant.external_id,
        # What the link lets its holder do (which pages, whether they may change anything), as
        # well as where it leads and until when.
        after=snapshot(
            link,
            ("slot_key", "sections", "read_only", "locale", "return_url", "expires_at"),
        ),
    )
    token = connect_link_token(link)
    slot = tenant.template_version.slot(slot_key) if slot_key else None
    consent_path = (
        connect_link_consent_path(token, slot_key) if slot and is_oauth_slot(slot) else None
    )
    path = connect_link_path(token, portal=bool(sections))
    return IssuedLink(link=link, token=token, path=path, consent_path=consent_path)


def link_options_validate(
    *, sections: list[str] | None, read_only: bool, locale: str, slot_key: str = ""
) -> tuple[list[str], str]:
    """The portal options of a new link, checked: (sections in their canonical order, the
    locale). Raises InvalidInputError naming each bad field."""
    fields: dict[str, list[str]] = {}
    if sections is not None:
        unknown = [s for s in sections if s not in PORTAL_SECTIONS]
        if unknown:
            fields["sections"] = [
                f"Unknown section {unknown[0]!r}; choose from {', '.join(PORTAL_SECTIONS)}."
            ]
        elif not sections:
            fields["sections"] = [
                "Choose at least one section, or leave sections out for the credential form."
            ]
        elif len(set(sections)) != len(sections):
            fields["sections"] = ["Each section may be named once."]
        elif slot_key:
            fields["sections"] = [
                "A link for one slot opens that slot's credential form; leave out either "
                "slot or sections."
            ]
    if read_only and not sections:
        fields["read_only"] = [
            "Only a portal link (with sections) can be read-only: the credential form exists "
            "to change credentials."
        ]
    if locale:
        normalised = locale.lower()
        if not _LOCALE.fullmatch(normalised) or not _speaks(normalised):
            fields["locale"] = [
                f"{locale!r} is not a language this service speaks (for example 'en' or 'de')."
            ]
        locale = normalised
    if fields:
        raise InvalidInputError("The link's options are not valid.", fields=fields)
    ordered = [s for s in PORTAL_SECTIONS if s in (sections or [])]
    return ordered, locale


def _speaks(locale: str) -> bool:
    try:
        get_supported_language_variant(locale)
    except LookupError:
        return False
    return True


class _SignedAtCreation(signing.TimestampSigner):
    """Signs with the link's creation time rather than now, so that a link's token is the same
    string each time it is made: a webhook can carry it without the token being stored."""

    def __init__(self, *, created_at: datetime, **kwargs):
        super().__init__(**kwargs)
        self._created_at = created_at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self._created_at.timestamp()))


def connect_link_token(link: ConnectLink) -> str:
    """The link's signed token (deterministic: see _SignedAtCreation)."""
    payload = {"l": link.id.hex, "t": link.tenant_id}
    if link.slot_key:
        payload["s"] = link.slot_key
    if link.return_url:
        payload["r"] = link.return_url
    signer = _SignedAtCreation(salt=SALT, created_at=link.created_at)
    return signer.sign_object(payload, compress=True)


def reconnect_link_create(*, tenant: Tenant, slot_key: str) -> ConnectLink | None:
    """A fresh link to reconnect one slot, for the host to send to its customer; None when
    the tenant takes no credentials any more or its template lost the slot."""
    try:
        issued = connect_link_create(
            tenant=tenant, slot_key=slot_key, expires_in=RECONNECT_EXPIRES_IN
        )
    except (TenantGone, SlotNotInTemplate):
        return None
    return issued.link


def return_url_origin(url: str) -> str | None:
    """The origin of an http(s) URL, normalised like allowed_origins, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return origin_normalize(urlunsplit((parts.scheme, parts.netloc, "", "", "")))


def _expired(link: ConnectLink | None = None, *, expired: bool) -> ConnectLinkExpired:
    return ConnectLinkExpired(
        "This link has expired or was withdrawn. Ask for a new one.",
        locale=link.locale if link is not None else "",
        expired=expired,
        frame_origins=link.tenant.allowed_origins if link is not None else [],
    )


def connect_link_resolve(token: str) -> ConnectLink:
    """The live link a token stands for, with its tenant and template loaded."""
    invalid = ConnectLinkInvalid("This is not a valid link. Check the link you followed.")
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise invalid
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_EXPIRES_IN.total_seconds())
    except signing.SignatureExpired:
        # Signed by us, more than the longest lifetime of a link ago: the signature holds, so
        # the link it names (if still on record) says which language to say so in.
        raise _expired(_signed_link(token), expired=True) from None
    except (signing.BadSignature, ValueError):
        raise invalid from None
    try:
        link_id = uuid.UUID(hex=payload["l"])
        tenant_id = int(payload["t"])
    except (KeyError, TypeError, ValueError):
        # Signed by us, yet not a link's payload: a token of another kind. Nothing to say.
        raise invalid from None
    link = (
        ConnectLink.objects.select_related("tenant__template")
        .filter(id=link_id, tenant_id=tenant_id)
        .first()
    )
    if (
        link is None
        or link.revoked_at is not None
        or link.expires_at <= timezone.now()
        or link.slot_key != payload.get("s", "")
        or link.return_url != payload.get("r", "")
        or link.tenant.status in GONE_STATUSES
    ):
        # Revoked wins over expired (LINK_STATES); a link no longer on record, or whose
        # tenant is gone, is only said to be no longer valid.
        ran_out = link is not None and link.revoked_at is None and link.expires_at <= timezone.now()
        raise _expired(link, expired=ran_out)
    return link


def _signed_link(token: str) -> ConnectLink | None:
    """The link a token whose signature holds (however old) names, if it is still on record."""
    try:
        payload = signing.loads(token, salt=SALT)
        return (
            ConnectLink.objects.select_related("tenant")
            .filter(id=uuid.UUID(hex=payload["l"]), tenant_id=int(payload["t"]))
            .first()
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def connect_link_revoke(*, link: ConnectLink, refuse_expired: bool = False) -> ConnectLink:
    """Revoke the link from now on; a link already revoked keeps its first `revoked_at`.

    With `refuse_expired` (the API), an expired link that was never revoked raises
    ConnectLinkNotRevocable rather than being marked: it no longer opens, and saying "revoked"
    would hide when it stopped working.
    """
    now = timezone.now()
    unrevoked = ConnectLink.objects.filter(pk=link.pk, revoked_at__isnull=True)
    if refuse_expired:
        unrevoked = unrevoked.filter(expires_at__gt=now)
    revoked = unrevoked.update(revoked_at=now)
    link.refresh_from_db(fields=["revoked_at", "expires_at"])
    if revoked:
        audit_record(
            action="connect_link.revoke",
            target=link,
            tenant=link.tenant.external_id,
            before={"revoked_at": None},
            after={"revoked_at": link.revoked_at},
        )
    if link.revoked_at is None:
        raise ConnectLinkNotRevocable(
            f"This link expired at {link.expires_at.isoformat()}; it no longer opens, so "
            "there is nothing to revoke."
        )
    return link


def connect_link_state(link: ConnectLink, *, now: datetime | None = None) -> str:
    """One of LINK_STATES."""
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if link.expires_at <= (now or timezone.now()) else "active"


def connect_link_list(*, tenant: Tenant, state: str | None = None) -> QuerySet[ConnectLink]:
    """The tenant's links, newest first; only those in `state` when given."""
    links = ConnectLink.objects.filter(tenant=tenant).order_by("-created_at", "-id")
    now = timezone.now()
    if state == "revoked":
        links = links.filter(revoked_at__isnull=False)
    elif state == "expired":
        links = links.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif state == "active":
        links = links.filter(revoked_at__isnull=True, expires_at__gt=now)
    return links


def connect_link_get(*, tenant: Tenant, link_id: str) -> ConnectLink:
    try:
        link_uuid = uuid.UUID(link_id)
    except ValueError:
        link_uuid = None
    link = ConnectLink.objects.filter(tenant=tenant, pk=link_uuid).first() if link_uuid else None
    if link is None:
        raise ConnectLinkNotFound(f"The tenant has no connect link {link_id!r}.")
    return link

"""Creating, updating and moving tenants through their statuses."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record, snapshot
from core.errors import InvalidInputError
from tenants.errors import (
    RegionUnavailable,
    SettingsInvalid,
    TenantExists,
    TenantGone,
    TenantStillDeprovisioning,
    TenantTransitionError,
)
from tenants.models import (
    ConnectLink,
    IntegrationTemplate,
    Tenant,
    TenantConnection,
    TenantStatus,
)
from tenants.services.settings import (
    merge_patch,
    settings_as_typed,
    settings_effective,
    settings_schedule_check,
    settings_without_nulls,
)
from tenants.services.templates import template_version_current
from tenants.signals import tenant_status_changed

S = TenantStatus
# Every status change the service allows. The provisioning engine drives most of them; the
# API only starts deprovisioning. Deprovisioned is final for the row: registering the same
# external_id again makes a new incarnation (see tenant_create).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_CREDENTIALS: frozenset({S.PROVISIONING, S.DEPROVISIONING}),
    # Back to awaiting credentials: a provision found a slot's connection gone when it ran.
    S.PROVISIONING: frozenset(
        {S.ACTIVE, S.DEGRADED, S.FAILED, S.AWAITING_CREDENTIALS, S.DEPROVISIONING}
    ),
    S.ACTIVE: frozenset({S.PROVISIONING, S.DEGRADED, S.DEPROVISIONING}),
    S.DEGRADED: frozenset({S.ACTIVE, S.PROVISIONING, S.FAILED, S.DEPROVISIONING}),
    S.FAILED: frozenset({S.PROVISIONING, S.AWAITING_CREDENTIALS, S.DEPROVISIONING}),
    S.DEPROVISIONING: frozenset({S.DEPROVISIONED, S.FAILED}),
    S.DEPROVISIONED: frozenset(),
}
GONE_STATUSES = frozenset({S.DEPROVISIONING, S.DEPROVISIONED})
MAX_ALLOWED_ORIGINS = 20


def tenant_changeable_check(*, tenant: Tenant) -> None:
    """TenantGone (409 `tenant_deprovisioned`) once the tenant is being removed: from then on
    nothing about it changes (name, settings, pin, version), whoever asks. Callers that must
    not race a deprovision call it on the row they hold locked."""
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; it can no longer be changed.")


def origins_normalize(*, origins: list[str]) -> list[str]:
    """Check and normalise origins (`https://app.example.com[:port]`, no path: the scheme and
    host in lower case, without the default port); in order. Raises InvalidInputError naming
    each bad item, and each item that is the same origin as an earlier one once normalised
    (`https://App.example.com` after `https://app.example.com`): as the API refuses an item
    given twice in its other lists, rather than storing fewer than were sent."""
    if len(origins) > MAX_ALLOWED_ORIGINS:
        raise InvalidInputError(
            f"At most {MAX_ALLOWED_ORIGINS} origins are allowed.",
            fields={"allowed_origins": [f"At most {MAX_ALLOWED_ORIGINS} origins."]},
        )
    normalized: list[str] = []
    first_index: dict[str, int] = {}
    fields: dict[str, list[str]] = {}
    for index, origin in enumerate(origins):
        value = origin_normalize(origin)
        if value is None:
            fields[f"allowed_origins.{index}"] = [
                "Must be an origin such as https://app.example.com (scheme, host name and "
                "optional port; no path, query, credentials, wildcard or IPv6 address)."
            ]
        elif value in first_index:
            fields[f"allowed_origins.{index}"] = [
                f"{json.dumps(origin, ensure_ascii=False)} is the origin {value} (scheme and "
                "host in lower case, without the default port), which item "
                f"{first_index[value]} gives already; give each origin once."
            ]
        else:
            first_index[value] = index
            normalized.append(value)
    if fields:
        raise InvalidInputError(
            "Some allowed origins are not valid, or name an origin twice.", fields=fields
        )
    return normalized


def host_ascii(hostname: str) -> str | None:
    """The host in lower case, an internationalised one in its ASCII (punycode) form, which is
    what browsers send in `Origin` and match `frame-ancestors` against: kept as typed, it
    would never match. None if it cannot be encoded."""
    host = hostname.lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


# A host as `Content-Security-Policy: frame-ancestors` can name it: dot-separated labels of
# letters, digits and hyphens. No wildcard (`*.example.com`: the Origin check of a post
# compares whole origins), no IPv6 literal (CSP's grammar has none), nothing else: an origin
# the header cannot carry would be accepted here and then dropped from it, and the host app's
# embed refused with no word of why.
_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")


def origin_normalize(value: str) -> str | None:
    """`scheme://host[:port]` in lower case (an internationalised host in its punycode form),
    or None if `value` is not a bare origin (or names a host no browser policy can name)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if port == 0:
        return None  # no page is served from it: not the default port's origin either
    if parts.username or parts.password or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/"):
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = host_ascii(parts.hostname)
    if host is None or not _HOST.fullmatch(host):
        return None
    suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


def tenant_create(
    *,
    external_id: str,
    name: str,
    template: IntegrationTemplate,
    settings: dict | None = None,
    allowed_origins: list[str] | None = None,
    region: str | None = None,
) -> tuple[Tenant, bool]:
    """Register a tenant; returns (tenant, created).

    The tenant is placed on its template's integrator.io account (the template integration
    it is cloned from lives there, and a clone never crosses accounts) and stays there.
    `region`, when the host asks for one ("us" or "eu", e.g. for data residency), must be that
    account's region: otherwise RegionUnavailable, and nothing is registered.

    Creating is idempotent by `external_id`: the same values again return the current tenant
    (created=False), different values raise TenantExists naming them (settings and allowed
    origins left out are not compared, see `_registered_differences`). A customer who left
    (its tenant is deprovisioned) is registered again as a new incarnation: a new row, a new
    `uid`, and the old row (with its jobs and runs) kept as history. While the old one is
    still being deprovisioned, registering again is a conflict. The partial unique constraint
    on the current `external_id` decides between concurrent creates, so exactly one row is
    made.
    """
    overrides = settings_without_nulls(settings or {})
    account = template.account
    if region is not None and region != account.region:
        raise RegionUnavailable(
            f"The template {template.key!r} lives on integrator.io account {account.key!r} in "
            f"region {account.region!r}, so its tenants are placed there, not in {region!r}. "
            "Name a template published on an account in that region.",
            fields={"region": [f"The template's region is {account.region!r}."]},
        )
    version = template_version_current(template=template)
    overrides = settings_as_typed(schema=version.settings_schema, settings=overrides)
    effective = settings_effective(template=version, overrides=overrides)
    settings_schedule_check(version=version, settings=effective)
    origins = origins_normalize(origins=allowed_origins or [])
    values = {
        "name": name,
        "template": template,
        "account": account,
        "template_version": version,
        "settings": overrides,
        "allowed_origins": origins,
    }
    for _ in range(3):
        try:
            with transaction.atomic():
                current = (
                    Tenant.objects.select_for_update()
                    .select_related("template")
                    .filter(external_id=external_id, superseded_at__isnull=True)
                    .first()
                )
                if current is None or current.status == S.DEPROVISIONED:
                    return _incarnation_create(external_id, values, previous=current), True
        except IntegrityError:
            continue  # a concurrent create made the current row first: look again
        if current.status == S.DEPROVISIONING:
            raise TenantStillDeprovisioning(
                f"The tenant {external_id!r} is still being deprovisioned. Register it again "
                "once it is deprovisioned."
            )
        differs = _registered_differences(
            current,
            name=name,
            template=template,
            settings=overrides if settings is not None else None,
            allowed_origins=origins if allowed_origins is not None else None,
        )
        if differs:
            raise _tenant_exists(current, template=template, differs=differs)
        return current, False
    raise TenantExists(f"The tenant {external_id!r} is being registered concurrently; retry.")


def _tenant_exists(
    current: Tenant, *, template: IntegrationTemplate, differs: list[str]
) -> TenantExists:
    """The conflict of a registration that differs from the registered tenant. PATCH changes
    the name, settings and origins; the template never changes (nor, with it, the integrator.io
    account the tenant's integration lives in), so a customer moves to another template (another
    account, another region) by being deprovisioned and registered again with it."""
    external_id = current.external_id
    fields = {
        field: ["Differs from the registered tenant's (GET the tenant to see it)."]
        for field in differs
    }
    if "template" not in differs:
        return TenantExists(
            f"A tenant with external_id {external_id!r} already exists with different "
            f"values ({', '.join(differs)}). Use PATCH to change it.",
            fields=fields,
        )
    account, wanted = current.account, template.account
    fields["template"] = [
        f"The tenant's template is {current.template.key!r} (integrator.io account "
        f"{account.key!r}, region {account.region!r}); a tenant's template never changes."
    ]
    return TenantExists(
        f"A tenant with external_id {external_id!r} already exists on the template "
        f"{current.template.key!r} (integrator.io account {account.key!r}, region "
        f"{account.region!r}), and a tenant's template, with the account its integration lives "
        f"in, never changes. To move it to {template.key!r} (account {wanted.key!r}, region "
        f"{wanted.region!r}), deprovision it (DELETE /api/v1/tenants/{external_id}) and, once "
        "it is deprovisioned, register it again with that template: a new incarnation, with "
        "new connections and integration.",
        fields=fields,
    )


def _registered_differences(
    current: Tenant,
    *,
    name: str,
    template: IntegrationTemplate,
    settings: dict | None,
    allowed_origins: list[str] | None,
) -> list[str]:
    """What a repeated registration gives that the registered tenant does not hold. Settings
    and allowed origins the request leaves out are not compared: the customer's integration
    page and the host's PATCH change the settings after registration, and a host registering
    the tenant again with its usual body must get the tenant, not a conflict."""
    differs = []
    if current.name != name:
        differs.append("name")
    if current.template_id != template.pk:
        differs.append("template")
    if settings is not None and not _settings_come_to(current, settings):
        differs.append("settings")
    # A set of origins (each once, whatever the order): the same ones in another order are the
    # same registration.
    if allowed_origins is not None and set(current.allowed_origins) != set(allowed_origins):
        differs.append("allowed_origins")
    return differs


def _settings_come_to(current: Tenant, overrides: dict) -> bool:
    """Whether `overrides` give the settings `current` runs with. Compared as the settings
    they come to on the tenant's version, not as written: a value the body gives that the
    tenant has by default, or one the customer set back to its default (kept as a value of
    its own), changes nothing, and GET shows no difference to explain a conflict."""
    if current.settings == overrides:
        return True
    try:
        given = settings_effective(template=current.template_version, overrides=overrides)
        return given == settings_effective(
            template=current.template_version, overrides=current.settings
        )
    except SettingsInvalid:
        # A setting the tenant's (older) version does not have: not what it runs with.
        return False


def _incarnation_create(external_id: str, values: dict, *, previous: Tenant | None) -> Tenant:
    """The first row of an external id, or the next one after a deprovisioned `previous`
    (superseded in the same transaction)."""
    incarnation = 1
    if previous is not None:
        Tenant.objects.filter(pk=previous.pk).update(superseded_at=timezone.now())
        incarnation = previous.incarnation + 1
    tenant = Tenant.objects.create(external_id=external_id, incarnation=incarnation, **values)
    TenantConnection.objects.bulk_create(
        TenantConnection(tenant=tenant, slot_key=slot["key"])
        for slot in values["template_version"].slots
    )
    audit_record(
        # A customer who left and came back is registered again: re-onboarded.
        action="tenant.create" if previous is None else "tenant.reonboard",
        target=tenant,
        after={
            **snapshot(tenant, ("name", "settings", "allowed_origins", "incarnation")),
            "template": values["template"].key,
            "template_version": values["template_version"].version,
            # The integrator.io account its integration is cloned into (and stays on): the
            # template's today, which an account's later edits in the admin do not show.
            "account": values["account"].key,
        },
    )
    return tenant


def tenant_update(
    *,
    tenant: Tenant,
    name: str | None = None,
    settings_patch: dict | None = None,
    settings_overrides: dict | None = None,
    allowed_origins: list[str] | None = None,
) -> bool:
    """Change what was given; returns whether the effective settings changed.

    `settings_patch` is a JSON Merge Patch on the tenant's overrides (the API's PATCH): keys not
    sent keep their value, `null` returns a key to the template default. `settings_overrides`
    replaces the overrides whole (the admin's editor). The row is locked while it is read,
    merged and written, so concurrent updates never lose each other's keys.
    """
    origins = None if allowed_origins is None else origins_normalize(origins=allowed_origins)
    with transaction.atomic():
        locked = (
            Tenant.objects.select_for_update()
            .select_related("template", "template_version")
            .get(pk=tenant.pk)
        )
        tenant_changeable_check(tenant=locked)
        before = snapshot(locked, ("name", "allowed_origins", "settings"))
        changed_fields = []
        settings_changed = False
        if name is not None and name != locked.name:
            locked.name = name
            changed_fields.append("name")
        if origins is not None and origins != locked.allowed_origins:
            locked.allowed_origins = origins
            changed_fields.append("allowed_origins")
        if settings_patch is not None or settings_overrides is not None:
            overrides = (
                settings_overrides
                if settings_overrides is not None
                else merge_patch(locked.settings, settings_patch)
            )
            before_effective = _effective_or_none(locked)
            overrides, after = _settings_checked(locked, overrides, before=before_effective)
            settings_changed = after != before_effective
            if overrides != locked.settings:
                locked.settings = overrides
                changed_fields.append("settings")
        if changed_fields:
            locked.save(update_fields=[*changed_fields, "updated_at"])
            audit_record(
                action="tenant.update",
                target=locked,
                before={name: before[name] for name in changed_fields},
                after=snapshot(locked, changed_fields),
            )
    for field in ("name", "allowed_origins", "settings", "status", "updated_at"):
        setattr(tenant, field, getattr(locked, field))
    return settings_changed


def tenant_settings_checked(*, tenant: Tenant, overrides: dict) -> tuple[dict, dict]:
    """(the overrides as they are stored, the effective settings they make) for `tenant`.
    SettingsInvalid if they break its template version's schema, or set the flows' schedule
    to an interval no schedule can say (a value the tenant already had is let through)."""
    return _settings_checked(tenant, overrides, before=_effective_or_none(tenant))


def _settings_checked(tenant: Tenant, overrides: dict, *, before: dict | None) -> tuple[dict, dict]:
    version = tenant.template_version
    overrides = settings_as_typed(schema=version.settings_schema, settings=overrides)
    after = settings_effective(template=version, overrides=overrides)
    settings_schedule_check(version=version, settings=after, before=before)
    return overrides, after


def _effective_or_none(tenant: Tenant) -> dict | None:
    # Settings stored before a template change may no longer validate; they then count as
    # different from whatever the update produces.
    try:
        return settings_effective(template=tenant.template_version, overrides=tenant.settings)
    except SettingsInvalid:
        return None


def tenant_transition(*, tenant: Tenant, to: str, error: str = "") -> Tenant:
    """Move `tenant` to status `to` if the table allows it and nobody moved it first.

    A compare-and-swap: the UPDATE only matches while the row still has the status this
    process read, so two workers can never both make the same move. `error` becomes
    `last_error` (an empty string clears it). Raises TenantTransitionError otherwise.
    """
    current = TenantStatus(tenant.status)
    target = TenantStatus(to)
    if target not in ALLOWED_TRANSITIONS[current]:
        raise TenantTransitionError(f"A tenant cannot go from {current} to {target}.")
    now = timezone.now()
    # The status and the webhook event that reports it commit together (outbox), so a
    # change is never lost nor announced without having happened. No savepoint inside a
    # caller's transaction (a job's end makes this move; each savepoint is two round trips):
    # a failure here fails the caller's transaction too, and the lost race, which callers
    # catch, is raised only once the block has ended cleanly, having written nothing.
    with transaction.atomic(savepoint=False):
        updated = Tenant.objects.filter(pk=tenant.pk, status=current).update(
            status=target, status_changed_at=now, updated_at=now, last_error=error
        )
        if updated == 1:
            tenant.status = target
            tenant.status_changed_at = tenant.updated_at = now
            tenant.last_error = error
            tenant_status_changed.send(sender=Tenant, tenant=tenant, previous_status=current)
    if updated != 1:
        raise TenantTransitionError(
            f"The tenant is no longer {current}; another change came first.",
            code="status_changed_concurrently",
        )
    return tenant


def tenant_deprovision(*, tenant: Tenant) -> Tenant:
    """Start deprovisioning (the engine finishes it). Asking again is not an error."""
    for _ in range(3):
        if tenant.status in GONE_STATUSES:
            return tenant
        try:
            tenant_transition(tenant=tenant, to=TenantStatus.DEPROVISIONING)
        except TenantTransitionError:
            tenant.refresh_from_db(fields=["status", "status_changed_at", "last_error"])
            continue
        ConnectLink.objects.filter(tenant=tenant, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        return tenant
    raise TenantTransitionError("The tenant's status keeps changing; retry the request.")

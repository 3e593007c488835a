"""Reads of templates and tenants, shaped for the API and the admin (no N+1 queries)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from tenants.call_costs import account_daily_budget, utc_today
from tenants.errors import TemplateNotFound, TemplateVersionNotFound, TenantNotFound
from tenants.models import (
    ConnectionStatus,
    IntegrationTemplate,
    TemplateVersion,
    Tenant,
    TenantCallCount,
    TenantConnection,
    TenantStatus,
)
from tenants.settings_mapping import settings_schema_as_validated

# external_id is the host app's own customer id. It appears in URL paths, so it is limited
# to characters that need no escaping there.
EXTERNAL_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}"
EXTERNAL_ID_MATCH = re.compile(rf"^{EXTERNAL_ID_PATTERN}$")
_TEMPLATE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def template_list(*, include_inactive: bool = False) -> QuerySet[IntegrationTemplate]:
    templates = IntegrationTemplate.objects.select_related("account")
    return templates if include_inactive else templates.filter(is_active=True)


def template_get(*, key: str) -> IntegrationTemplate:
    template = (
        IntegrationTemplate.objects.select_related("account").filter(key=key).first()
        if _TEMPLATE_KEY.match(key)
        else None
    )
    if template is None:
        raise TemplateNotFound(f"No template with key {key!r}.")
    return template


def template_settings_schema(*, template: IntegrationTemplate) -> dict:
    """The settings schema new tenants of `template` are validated against (that of its
    newest version, with the values a schedule setting takes: see
    settings_schema_as_validated)."""
    newest = (
        TemplateVersion.objects.filter(template_id=template.pk)
        .order_by("-published_at", "-id")
        .values_list("settings_mapping", flat=True)
        .first()
    )
    return settings_schema_as_validated(
        settings_schema=template.settings_schema, mapping=newest or []
    )


def version_settings_schema(*, version: TemplateVersion) -> dict:
    """The settings schema a tenant on `version` is validated against (as above)."""
    return settings_schema_as_validated(
        settings_schema=version.settings_schema, mapping=version.settings_mapping
    )


def tenant_get(*, external_id: str) -> Tenant:
    """The current incarnation of the tenant (with its template) for services to act on."""
    tenant = None
    if EXTERNAL_ID_MATCH.match(external_id):
        tenant = (
            Tenant.objects.select_related("template")
            .filter(external_id=external_id, superseded_at__isnull=True)
            .first()
        )
    if tenant is None:
        raise TenantNotFound(f"No tenant with external_id {external_id!r}.")
    return tenant


def tenant_incarnation_get(*, external_id: str, incarnation: int | None) -> Tenant:
    """One incarnation of the tenant: the current one when `incarnation` is None, else the
    one registered that time, current or superseded (its jobs and runs are history)."""
    if incarnation is None:
        return tenant_get(external_id=external_id)
    tenant = None
    if EXTERNAL_ID_MATCH.match(external_id):
        tenant = (
            Tenant.objects.select_related("template")
            .filter(external_id=external_id, incarnation=incarnation)
            .first()
        )
    if tenant is None:
        current = tenant_get(external_id=external_id)
        raise TenantNotFound(
            f"Tenant {external_id!r} has no incarnation {incarnation} "
            f"(its current one is {current.incarnation})."
        )
    return tenant


def tenant_connections_ready(*, tenant: Tenant) -> bool:
    """True when every slot of the tenant's template has a working connection."""
    return bool(tenant.template_version.slots) and not tenant_slots_not_ready(tenant=tenant)


def tenant_slots_not_ready(*, tenant: Tenant) -> list[str]:
    """The template's slots (in its order) that have no working connection of the tenant."""
    ok = set(
        TenantConnection.objects.filter(tenant=tenant, status=ConnectionStatus.OK)
        .exclude(connection_id="")
        .values_list("slot_key", flat=True)
    )
    return [slot["key"] for slot in tenant.template_version.slots if slot["key"] not in ok]


def tenant_connection_health(*, slots: list[dict], connections: dict[str, dict]) -> list[dict]:
    """One entry per slot of the template, in template order; a slot without a
    TenantConnection row is `missing`. `connections` maps slot keys to connection rows."""
    health = []
    for slot in slots:
        row = connections.get(slot["key"])
        health.append(
            {
                "slot": slot["key"],
                "label": slot["label"],
                "connection_type": slot["connection_type"],
                "status": row["status"] if row else ConnectionStatus.MISSING.value,
                "connection_id": (row["connection_id"] if row else "") or None,
                "last_ping_at": row["last_ping_at"] if row else None,
                "last_ping_error": (row["last_ping_error"] if row else "") or None,
                "fields": dict(row["field_values"]) if row else {},
            }
        )
    return health


def version_tenant_count() -> Count:
    """A version's tenants, to annotate its rows with (the API's `tenants`, the admin's
    column): the current tenants on it, built to it or to be built to it once their
    credentials work. A superseded incarnation is history, and a tenant deprovisioned (or
    being) has nothing left on any version: counted, an unused version looked used to whoever
    was about to retire it."""
    return _current_tenants_count()


def template_tenant_count() -> Count:
    """A template's tenants, to annotate its rows with (the admin's column), counted as its
    versions' are (`version_tenant_count`): every row ever registered with it, deprovisioned
    ones and earlier incarnations too, made a template look used long after its last
    customer had left."""
    return _current_tenants_count()


def _current_tenants_count() -> Count:
    # Templates and versions both name their tenants `tenants`.
    return Count(
        "tenants",
        filter=Q(tenants__superseded_at__isnull=True)
        & ~Q(tenants__status__in=(TenantStatus.DEPROVISIONING, TenantStatus.DEPROVISIONED)),
    )


def template_version_choices() -> list[tuple[int, str]]:
    """Every published version as (id, "key vX"), by template and then as published, for the
    tenant list's filter. Their names only: a version's snapshot is the largest value in the
    database, and Django's own filter of the field read every version whole."""
    rows = TemplateVersion.objects.order_by("template__key", "published_at", "pk").values_list(
        "pk", "template__key", "version"
    )
    return [(pk, f"{key} v{version}") for pk, key, version in rows]


def template_versions(*, template: IntegrationTemplate) -> QuerySet[TemplateVersion]:
    """The template's published versions, newest first, each with `tenant_count`
    (`version_tenant_count`)."""
    return (
        TemplateVersion.objects.filter(template=template)
        .select_related("template")
        .annotate(tenant_count=version_tenant_count())
        .order_by("-published_at", "-id")
    )


def template_version_get(*, template: IntegrationTemplate, version: str) -> TemplateVersion:
    found = template_versions(template=template).filter(version=version).first()
    if found is None:
        raise TemplateVersionNotFound(
            f"The template {template.key!r} has no published version {version!r}."
        )
    return found


# --- integrator.io calls per tenant (TenantCallCount) ---------------------------------------------


@dataclass(frozen=True)
class CallCosts:
    """A tenant's integrator.io calls over `days` UTC days ending today."""

    days: list[dict]  # [{"day", "calls": {purpose: n}, "total", "budget_share"}], oldest first
    totals: dict[str, int]  # purpose -> calls over the period
    total: int
    daily_budget: float  # calls the account may make in a day at its rate limit

    @property
    def budget_share(self) -> float:
        """The period's calls as a share of the account's budget over the same days."""
        return self.total / (self.daily_budget * len(self.days)) if self.days else 0.0


def tenant_call_costs(*, tenant: Tenant, days: int) -> CallCosts:
    today = utc_today()
    first = today - timedelta(days=days - 1)
    rows = TenantCallCount.objects.filter(tenant=tenant, day__gte=first).values_list(
        "day", "purpose", "calls"
    )
    by_day: dict = {first + timedelta(days=n): {} for n in range(days)}
    totals: dict[str, int] = {}
    for day, purpose, calls in rows:
        by_day.setdefault(day, {})[purpose] = calls
        totals[purpose] = totals.get(purpose, 0) + calls
    budget = account_daily_budget(tenant.account)
    out = []
    for day in sorted(by_day):
        total = sum(by_day[day].values())
        out.append(
            {"day": day, "calls": by_day[day], "total": total, "budget_share": total / budget}
        )
    return CallCosts(days=out, totals=totals, total=sum(totals.values()), daily_budget=budget)


def tenants_by_calls(*, days: int = 7) -> QuerySet[Tenant]:
    """Tenants annotated with `recent_calls` over the last `days` UTC days, most first."""
    first = utc_today() - timedelta(days=days - 1)
    recent = Q(call_counts__day__gte=first)
    return (
        Tenant.objects.annotate(recent_calls=Coalesce(Sum("call_counts__calls", filter=recent), 0))
        .filter(recent_calls__gt=0)
        .select_related("account")
        .order_by("-recent_calls", "pk")
    )

"""Reads of templates and tenants, shaped for the API and the admin (no N+1 queries)."""

from __future__ import annotations

import re

from django.db.models import Count, Q, QuerySet

from tenants.errors import TemplateNotFound, TemplateVersionNotFound, TenantNotFound
from tenants.models import (
    ConnectionStatus,
    IntegrationTemplate,
    TemplateVersion,
    Tenant,
    TenantConnection,
)

# external_id is the host app's own customer id. It appears in URL paths, so it is limited
# to characters that need no escaping there.
EXTERNAL_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}"
EXTERNAL_ID_MATCH = re.compile(rf"^{EXTERNAL_ID_PATTERN}$")
_TEMPLATE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def template_list(*, include_inactive: bool = False) -> QuerySet[IntegrationTemplate]:
    templates = IntegrationTemplate.objects.all()
    return templates if include_inactive else templates.filter(is_active=True)


def template_get(*, key: str) -> IntegrationTemplate:
    template = (
        IntegrationTemplate.objects.filter(key=key).first() if _TEMPLATE_KEY.match(key) else None
    )
    if template is None:
        raise TemplateNotFound(f"No template with key {key!r}.")
    return template


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


def template_versions(*, template: IntegrationTemplate) -> QuerySet[TemplateVersion]:
    """The template's published versions, newest first, each with `tenant_count`: the current
    tenants built to it (a superseded incarnation is history, not a tenant on the version)."""
    current = Q(tenants__superseded_at__isnull=True)
    return (
        TemplateVersion.objects.filter(template=template)
        .select_related("template")
        .annotate(tenant_count=Count("tenants", filter=current))
        .order_by("-published_at", "-id")
    )


def template_version_get(*, template: IntegrationTemplate, version: str) -> TemplateVersion:
    found = template_versions(template=template).filter(version=version).first()
    if found is None:
        raise TemplateVersionNotFound(
            f"The template {template.key!r} has no published version {version!r}."
        )
    return found

"""A large fleet of tenants in PostgreSQL, made in bulk: rows only (no job, no remote call),
for the benchmarks that measure what the database does with 50,000 tenants.

Imported inside a configured Django process (a bench's `manage.py shell` seed, or after
`django.setup()`).
"""

from __future__ import annotations

from tenants.models import (
    ConnectionStatus,
    IntegrationTemplate,
    Tenant,
    TenantConnection,
    TenantStatus,
)

# A fleet as it looks after a while: mostly live, a few failing, waiting or gone. Out of 20.
STATUS_MIX = (
    [TenantStatus.ACTIVE] * 16
    + [TenantStatus.DEGRADED, TenantStatus.FAILED]
    + [TenantStatus.AWAITING_CREDENTIALS, TenantStatus.DEPROVISIONED]
)
BATCH = 2_000


def fleet_bulk_create(*, template: IntegrationTemplate, count: int, prefix: str = "fleet") -> int:
    """`count` tenants of `template` at its current version, external ids `<prefix>-<n>`,
    statuses in STATUS_MIX's proportions, each slot with a working connection (but for those
    awaiting credentials). Returns how many were made."""
    version = template.versions.order_by("-published_at", "-id").first()
    slots = [slot["key"] for slot in version.slots]
    made = 0
    for start in range(0, count, BATCH):
        tenants = []
        for n in range(start, min(count, start + BATCH)):
            status = STATUS_MIX[n % len(STATUS_MIX)]
            live = status not in (TenantStatus.AWAITING_CREDENTIALS, TenantStatus.DEPROVISIONED)
            tenants.append(
                Tenant(
                    external_id=f"{prefix}-{n:06d}",
                    name=f"Fleet customer {n}",
                    template=template,
                    template_version=version,
                    status=status,
                    settings={"store_id": f"store-{n}"},
                    integration_id=f"{n:024x}" if live else "",
                )
            )
        Tenant.objects.bulk_create(tenants)
        TenantConnection.objects.bulk_create(
            TenantConnection(
                tenant=tenant,
                slot_key=slot,
                status=(
                    ConnectionStatus.MISSING
                    if tenant.status == TenantStatus.AWAITING_CREDENTIALS
                    else ConnectionStatus.OK
                ),
                connection_id=(
                    ""
                    if tenant.status == TenantStatus.AWAITING_CREDENTIALS
                    else f"{start + index:024x}"
                ),
            )
            for index, tenant in enumerate(tenants)
            for slot in slots
        )
        made += len(tenants)
    return made

"""The orphan scan (beat, every ORPHANS_SCAN_INTERVAL_SECONDS): what this deployment made in
integrator.io that no tenant owns, recorded as `Orphan` rows. Each integrator.io account
(core.accounts) is scanned on its own, with its own client (provisioning.tasks); one scan
sees and records that account only. One account failing (integrator.io unavailable or
refusing its token, no token set) is logged and reported, and the others are scanned all the
same (`orphans_scan_accounts`).

1. List the account's integrations and connections (two paged reads).
2. Keep those whose mark (core.remote_marks) names this deployment; others' are none of our
   business, and legacy marks (before deployments had an identity) name no deployment.
3. An integration is an orphan when the tenant its mark names does not exist or is
   deprovisioned ("integration"), uses another integration ("duplicate_integration"), or
   lives on another account ("duplicate_integration" too: a tenant's integration is only
   ever in its own account, so a clone marked for it elsewhere, however it got there, is
   never its and never adopted by its next provision, which looks in its own account). A
   connection is one when no tenant of the account has a connection row pointing at it
   ("connection"; one marked for a tenant of another account says so in its reason).
   Anything younger than ORPHANS_GRACE_SECONDS is left for the next scan: a job may be about
   to commit it.
4. Each orphan is recorded once (kind, remote id; object ids are unique across accounts),
   with its account, `first_seen_at`, and `last_seen_at` bumped at every scan that still
   sees it; a new one sends `orphan.found` (naming the account). An open orphan of the
   scanned account that is no longer found (deleted by someone, or now owned) becomes `gone`;
   other accounts' orphans are left alone, their own scan decides.
5. Along the way, resources with a legacy mark that a tenant of the account has committed
   (its integration id, its connection id) are re-marked with this deployment's identity.

Nothing is deleted here unless ORPHANS_AUTO_DELETE is set; then each open orphan of the
scanned account is deleted remotely as a person would (provisioning.services.orphans).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.accounts import AccountTokenUnavailable, integrator_accounts_list
from core.integrator_client import build_integrator_client
from core.models import IntegratorAccount
from core.remote_marks import (
    connection_external_id,
    connection_mark,
    integration_mark,
    integration_tag,
)
from integrator.client import IntegratorClient, replace_operations
from integrator.errors import IntegratorError, NotFoundError
from integrator.resources import parse_timestamp
from provisioning.models import Orphan, OrphanKind, OrphanStatus
from provisioning.orphan_removal import orphan_delete
from tenants.models import Tenant, TenantConnection, TenantStatus
from webhooks.models import EventType
from webhooks.services import event_record

logger = logging.getLogger(__name__)


@dataclass
class Finding:
    kind: str
    remote_id: str
    name: str
    mark: str
    reason: str
    tenant: Tenant | None
    tenant_uid: str
    created_at: datetime | None


def _finding(kind: str, doc: dict, *, mark_field: str, tenant_uid: str, tenant, reason: str):
    return Finding(
        kind=kind,
        remote_id=doc["_id"],
        name=str(doc.get("name", ""))[:200],
        mark=str(doc.get(mark_field) or "")[:200],
        reason=reason,
        tenant=tenant,
        tenant_uid=tenant_uid,
        created_at=parse_timestamp(doc.get("createdAt")),
    )


@dataclass
class ScanReport:
    found: list[Finding] = field(default_factory=list)
    new: int = 0
    gone: int = 0
    remarked: int = 0
    auto_deleted: int = 0

    def as_dict(self) -> dict:
        return {
            "open": len(self.found),
            "new": self.new,
            "gone": self.gone,
            "remarked": self.remarked,
            "auto_deleted": self.auto_deleted,
        }


def orphans_scan_accounts() -> dict[str, dict]:
    """Scan every account, each with its own background client; per account key, its
    report (`ScanReport.as_dict`) or `{"error": ...}` when it could not be scanned."""
    reports: dict[str, dict] = {}
    for account in integrator_accounts_list():
        try:
            with build_integrator_client(account=account, lane="background") as client:
                reports[account.key] = orphans_scan(client=client, account=account).as_dict()
        except (IntegratorError, AccountTokenUnavailable) as error:
            # The next scan sees the same objects; the other accounts need not wait for it.
            logger.warning("orphan scan of account %s failed: %s", account.key, error)
            reports[account.key] = {"error": str(error)}
    return reports


def orphans_scan(
    *, client: IntegratorClient, account: IntegratorAccount, now: datetime | None = None
) -> ScanReport:
    """Find and record this deployment's orphans in `account`, which `client` talks to (see
    the module docstring)."""
    now = now or timezone.now()
    settled_before = now - timedelta(seconds=settings.ORPHANS_GRACE_SECONDS)
    report = ScanReport()
    integrations = [i.raw for i in client.list_integrations(include=["tag", "createdAt"])]
    connections = [c.raw for c in client.list_connections()]
    report.remarked = _legacy_marks_upgrade(client, account, integrations, connections)
    findings = _integration_findings(account, integrations) + _connection_findings(
        account, connections
    )
    report.found = [finding for finding in findings if _settled(finding, settled_before)]
    report.new, report.gone = _record(report.found, account=account, now=now)
    if settings.ORPHANS_AUTO_DELETE:
        report.auto_deleted = _auto_delete(client, account)
    return report


def _tenants_by_uid(uids: set[str]) -> dict[str, Tenant]:
    return {t.uid: t for t in Tenant.objects.filter(uid__in=uids).select_related("account")}


def _elsewhere(tenant: Tenant) -> str:
    return f"Its tenant lives on integrator.io account {tenant.account.key!r}."


def _integration_findings(account: IntegratorAccount, integrations: list[dict]) -> list[Finding]:
    ours = [(doc, mark) for doc in integrations if (mark := integration_mark(doc)) and mark.is_ours]
    tenants = _tenants_by_uid({mark.tenant_uid for _, mark in ours})
    findings = []
    for doc, mark in ours:
        tenant = tenants.get(mark.tenant_uid)
        if tenant is None:
            kind, reason = OrphanKind.INTEGRATION, "Its tenant does not exist."
        elif tenant.status == TenantStatus.DEPROVISIONED:
            kind, reason = OrphanKind.INTEGRATION, "Its tenant was deprovisioned."
        elif tenant.account_id != account.pk:
            # Never the tenant's, whatever its id: its jobs look in its own account only.
            kind, reason = OrphanKind.DUPLICATE_INTEGRATION, _elsewhere(tenant)
        elif tenant.integration_id and tenant.integration_id != doc["_id"]:
            kind = OrphanKind.DUPLICATE_INTEGRATION
            reason = f"Its tenant uses another integration ({tenant.integration_id})."
        else:
            # The tenant's own, or a clone its next provision adopts.
            continue
        findings.append(
            _finding(
                kind,
                doc,
                mark_field="tag",
                tenant_uid=mark.tenant_uid,
                tenant=tenant,
                reason=reason,
            )
        )
    return findings


def _connection_findings(account: IntegratorAccount, connections: list[dict]) -> list[Finding]:
    ours = [(doc, mark) for doc in connections if (mark := connection_mark(doc)) and mark.is_ours]
    used = set(
        TenantConnection.objects.filter(
            connection_id__in=[doc["_id"] for doc, _ in ours], tenant__account=account
        )
        .exclude(tenant__status=TenantStatus.DEPROVISIONED)
        .values_list("connection_id", flat=True)
    )
    tenants = _tenants_by_uid({mark.tenant_uid for _, mark in ours})
    findings = []
    for doc, mark in ours:
        if doc["_id"] in used:
            continue
        tenant = tenants.get(mark.tenant_uid)
        if tenant is None:
            reason = "Its tenant does not exist."
        elif tenant.status == TenantStatus.DEPROVISIONED:
            reason = "Its tenant was deprovisioned."
        elif tenant.account_id != account.pk:
            reason = _elsewhere(tenant)
        else:
            reason = "No connection slot of its tenant uses it."
        findings.append(
            _finding(
                OrphanKind.CONNECTION,
                doc,
                mark_field="externalId",
                tenant_uid=mark.tenant_uid,
                tenant=tenant,
                reason=reason,
            )
        )
    return findings


def _settled(finding: Finding, settled_before: datetime) -> bool:
    """Old enough to be sure no job is about to commit it (or already recorded)."""
    if Orphan.objects.filter(kind=finding.kind, remote_id=finding.remote_id).exists():
        return True
    return finding.created_at is None or finding.created_at <= settled_before


def _record(
    findings: list[Finding], *, account: IntegratorAccount, now: datetime
) -> tuple[int, int]:
    """Upsert the findings of `account`; close its open orphans that were not found (another
    account's are not this scan's to close). Returns (new, gone)."""
    new = 0
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        seen.add((finding.kind, finding.remote_id))
        with transaction.atomic():
            existing = (
                Orphan.objects.select_for_update()
                .filter(kind=finding.kind, remote_id=finding.remote_id)
                .first()
            )
            if existing is not None:
                reopened = existing.status == OrphanStatus.GONE
                Orphan.objects.filter(pk=existing.pk).update(
                    last_seen_at=now,
                    reason=finding.reason,
                    **(
                        {"status": OrphanStatus.OPEN, "resolved_at": None, "resolution": ""}
                        if reopened
                        else {}
                    ),
                )
                continue
            try:
                with transaction.atomic():
                    orphan = Orphan.objects.create(
                        account=account,
                        kind=finding.kind,
                        remote_id=finding.remote_id,
                        name=finding.name,
                        mark=finding.mark[:200],
                        tenant=finding.tenant,
                        tenant_uid=finding.tenant_uid,
                        reason=finding.reason,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
            except IntegrityError:
                continue  # another scan recorded it first
            event_record(
                tenant=None,
                event_type=EventType.ORPHAN_FOUND,
                data={
                    "orphan_id": str(orphan.id),
                    "account": account.key,
                    "kind": orphan.kind,
                    "remote_id": orphan.remote_id,
                    "name": orphan.name,
                    "reason": orphan.reason,
                    "tenant": finding.tenant.external_id if finding.tenant else None,
                    # Which incarnation of that external id: a deprovisioned tenant's
                    # leftovers and a re-registered one's share it.
                    "incarnation": finding.tenant.incarnation if finding.tenant else None,
                },
                dedupe_key=f"orphan-found:{orphan.id}",
            )
            new += 1
            logger.warning(
                "orphan found in account %s: %s %s (%s)",
                account.key,
                orphan.kind,
                orphan.remote_id,
                orphan.reason,
            )
    gone = 0
    still_open = Orphan.objects.filter(account=account, status=OrphanStatus.OPEN)
    for orphan in still_open.only("pk", "kind", "remote_id"):
        if (orphan.kind, orphan.remote_id) not in seen:
            gone += Orphan.objects.filter(pk=orphan.pk, status=OrphanStatus.OPEN).update(
                status=OrphanStatus.GONE,
                resolved_at=now,
                resolution="No longer found without an owner in integrator.io.",
            )
    return new, gone


def _legacy_marks_upgrade(
    client: IntegratorClient, account: IntegratorAccount, integrations, connections
) -> int:
    """Re-mark what a tenant of the account committed under a legacy mark; returns how
    many."""
    remarked = 0
    legacy_integrations = {
        doc["_id"]: mark
        for doc in integrations
        if (mark := integration_mark(doc)) and mark.is_legacy
    }
    for tenant in Tenant.objects.filter(
        integration_id__in=list(legacy_integrations), account=account
    ).select_related("template"):
        mark = legacy_integrations[tenant.integration_id]
        if mark.legacy_tenant_pk != tenant.pk:
            continue
        tag = integration_tag(tenant_uid=tenant.uid, template_key=tenant.template.key)
        try:
            client.modify_integration(
                tenant.integration_id, lambda doc, tag=tag: doc.update(tag=tag)
            )
        except NotFoundError:
            continue
        remarked += 1
    legacy_connections = {
        doc["_id"]: mark for doc in connections if (mark := connection_mark(doc)) and mark.is_legacy
    }
    rows = TenantConnection.objects.filter(
        connection_id__in=list(legacy_connections), tenant__account=account
    ).select_related("tenant")
    for row in rows:
        mark = legacy_connections[row.connection_id]
        if mark.legacy_tenant_pk != row.tenant_id:
            continue
        external_id = connection_external_id(tenant_uid=row.tenant.uid, slot_key=row.slot_key)
        try:
            # A connection cannot be read, changed and written back: its secrets read
            # "******". JSON Patch changes the one field.
            client.patch_connection(
                row.connection_id, replace_operations({"externalId": external_id})
            )
        except NotFoundError:
            continue
        remarked += 1
    if remarked:
        logger.info("re-marked %d legacy resources with this deployment's identity", remarked)
    return remarked


def _auto_delete(client: IntegratorClient, account: IntegratorAccount) -> int:
    """Delete the account's open orphans (`client` talks to that account only)."""
    deleted = 0
    for orphan in Orphan.objects.filter(account=account, status=OrphanStatus.OPEN):
        try:
            orphan_delete(orphan=orphan, client=client, by="ORPHANS_AUTO_DELETE")
        except IntegratorError as error:
            logger.warning("could not delete orphan %s: %s", orphan.remote_id, error)
            continue
        deleted += 1
    return deleted

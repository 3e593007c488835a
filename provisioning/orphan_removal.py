"""Deleting an orphan in integrator.io (a person's decision, or ORPHANS_AUTO_DELETE).

`client` must talk to the orphan's account (`orphan.account`). Before anything is deleted,
the object is read again and must still be an orphan of this deployment: marked with our
identity, and not (or no longer) what a tenant of that account uses. An
integration goes with its flows, exports and imports (integrator.io does not cascade), and
the connections its clone copied from the template; connections marked for a tenant are
orphans of their own. Every delete tolerates a 404: someone else got there first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.utils import timezone

from audit.services import audit_record
from core.remote_marks import connection_mark, integration_mark
from integrator.client import IntegratorClient
from integrator.errors import NotFoundError
from provisioning.errors import OrphanNotActionable
from provisioning.models import Orphan, OrphanKind, OrphanStatus
from tenants.models import TemplateVersion, Tenant, TenantConnection, TenantStatus


def orphan_delete(*, orphan: Orphan, client: IntegratorClient, by: str) -> Orphan:
    """Delete the orphan's object remotely and record it; see the module docstring."""
    if orphan.status != OrphanStatus.OPEN:
        raise OrphanNotActionable(f"The orphan is {orphan.status}; only an open one is deleted.")
    if orphan.kind == OrphanKind.CONNECTION:
        found = _connection_delete(client, orphan.account_id, orphan.remote_id)
    else:
        found = _integration_delete(client, orphan.account_id, orphan.remote_id)
    note = f"Deleted in integrator.io by {by}." if found else "Already gone from integrator.io."
    resolved = Orphan.objects.filter(pk=orphan.pk, status=OrphanStatus.OPEN).update(
        status=OrphanStatus.DELETED if found else OrphanStatus.GONE,
        resolved_at=timezone.now(),
        resolution=note,
    )
    orphan.refresh_from_db()
    if resolved:
        audit_record(
            action="orphan.delete",
            target=orphan,
            before={"status": OrphanStatus.OPEN},
            after={"status": orphan.status, "kind": orphan.kind, "remote_id": orphan.remote_id},
        )
    return orphan


def _integration_delete(client: IntegratorClient, account_id: int, integration_id: str) -> bool:
    try:
        doc = client.get_integration(integration_id).raw
    except NotFoundError:
        return False
    mark = integration_mark(doc)
    if mark is None or not mark.is_ours:
        raise OrphanNotActionable("The integration does not carry this deployment's mark.")
    if (
        Tenant.objects.filter(integration_id=integration_id, account_id=account_id)
        .exclude(status=TenantStatus.DEPROVISIONED)
        .exists()
    ):
        raise OrphanNotActionable("A tenant uses this integration now; it is not an orphan.")
    flows = client.list_integration_flows(integration_id)
    exports = client.list_integration_exports(integration_id)
    imports = client.list_integration_imports(integration_id)
    copies = _template_connection_copies(client, integration_id, mark.template_key)
    for flow in flows:
        _tolerate_404(client.delete_flow, flow.id)
    for export in exports:
        _tolerate_404(client.delete_export, export.id)
    for resource in imports:
        _tolerate_404(client.delete_import, resource.id)
    _tolerate_404(client.delete_integration, integration_id)
    for connection_id in copies:
        _tolerate_404(client.delete_connection, connection_id)
    return True


def _template_connection_copies(
    client: IntegratorClient, integration_id: str, template_key: str | None
) -> list[str]:
    """Connections the clone copied from its template's (unmarked, `_sourceId` a template
    connection): nobody else uses them."""
    versions = TemplateVersion.objects.filter(template__key=template_key) if template_key else []
    template_ids = {
        slot["template_connection_id"] for version in versions for slot in version.slots
    }
    if not template_ids:
        return []
    return [
        c.id
        for c in client.list_integration_connections(integration_id)
        if c.id not in template_ids
        and connection_mark(c.raw) is None
        and c.raw.get("_sourceId") in template_ids
    ]


def _connection_delete(client: IntegratorClient, account_id: int, connection_id: str) -> bool:
    try:
        doc = client.get_connection(connection_id).raw
    except NotFoundError:
        return False
    mark = connection_mark(doc)
    if mark is None or not mark.is_ours:
        raise OrphanNotActionable("The connection does not carry this deployment's mark.")
    in_use = (
        TenantConnection.objects.filter(connection_id=connection_id, tenant__account_id=account_id)
        .exclude(tenant__status=TenantStatus.DEPROVISIONED)
        .exists()
    )
    if in_use:
        raise OrphanNotActionable("A tenant uses this connection now; it is not an orphan.")
    _tolerate_404(client.delete_connection, connection_id)
    return True


def _tolerate_404(call: Callable[[str], None], object_id: str) -> None:
    with contextlib.suppress(NotFoundError):
        call(object_id)

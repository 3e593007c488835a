"""What a person does about an orphan: delete it remotely, or adopt it into a tenant.

Both talk to the orphan's own integrator.io account (`orphan.account`). Deleting is
`orphan_remove` (provisioning.orphan_removal does the work). Adopting gives the object to a
named tenant of that same account (a tenant's integration and connections live in its own
account only, so a tenant of another account is refused): it is re-marked with that
tenant's mark (so that the tenant's jobs, and no one else's, may change or delete it),
recorded on the tenant, and the tenant's provisioning carries on from there (an adopted
integration is not cloned again; an adopted connection is pinged and, if it completes the
tenant's slots, provisioning starts).

Their integrator.io calls are counted (tenants.call_costs): an adoption's for the adopting
tenant, as `provision`; a delete's for the tenant the orphan's mark names, as `deprovision`
(an orphan no tenant's mark names is no tenant's cost, and is not counted).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.integrator_client import build_integrator_client, remote_error_for_caller
from core.redaction import redact_text
from core.remote_marks import (
    connection_external_id,
    connection_mark,
    integration_mark,
    integration_name,
    integration_tag,
    name_with_mark,
)
from integrator.client import IntegratorClient, replace_operations
from integrator.errors import IntegratorError, NotFoundError
from provisioning.errors import OrphanNotActionable
from provisioning.models import Orphan, OrphanKind, OrphanStatus
from provisioning.orphan_removal import orphan_delete
from provisioning.services.readiness import provisioning_request_when_ready
from tenants.call_costs import CallTally
from tenants.errors import SlotNotInTemplate, TenantGone
from tenants.models import CallPurpose, ConnectionStatus, Tenant, TenantConnection, TenantStatus
from tenants.services.tenants import GONE_STATUSES

__all__ = ["orphan_adopt", "orphan_remove"]


def orphan_remove(*, orphan: Orphan, by: str) -> Orphan:
    """Delete the orphan's object in integrator.io (see provisioning.orphan_removal)."""
    with _remote(orphan, tenant=orphan.tenant, purpose=CallPurpose.DEPROVISION) as client:
        return orphan_delete(orphan=orphan, client=client, by=by)


def orphan_adopt(
    *, orphan: Orphan, tenant: Tenant, by: str, requested_by: str, slot_key: str = ""
) -> Orphan:
    """Give an open orphan to `tenant` (see the module docstring). `slot_key` is for a
    connection: the slot it fills (default: the slot its mark names)."""
    if tenant.account_id != orphan.account_id:
        raise OrphanNotActionable(
            f"The orphan is in integrator.io account {orphan.account.key!r} and tenant "
            f"{tenant.external_id} lives on account {tenant.account.key!r}: a tenant adopts "
            "only what is in its own account."
        )
    with _remote(orphan, tenant=tenant, purpose=CallPurpose.PROVISION) as client:
        return _adopt(
            orphan=orphan,
            tenant=tenant,
            client=client,
            by=by,
            requested_by=requested_by,
            slot_key=slot_key,
        )


@contextlib.contextmanager
def _remote(
    orphan: Orphan, *, tenant: Tenant | None, purpose: CallPurpose
) -> Iterator[IntegratorClient]:
    """A client of the orphan's account for one action, for a caller who waits (the API, the
    admin): integrator.io failing is the caller's 429 or 503, not a 500. Its calls are counted
    for `tenant` under `purpose` (none without a tenant), whether the action succeeds or not."""
    tally = CallTally(tenant_id=tenant.pk if tenant else None, purpose=purpose)
    try:
        with build_integrator_client(
            account=orphan.account, interactive=True, on_call=tally
        ) as client:
            try:
                yield client
            except IntegratorError as error:
                raise remote_error_for_caller(
                    error,
                    not_done="the action was not completed (part of it may have been)",
                    account=orphan.account,
                ) from error
    finally:
        tally.flush()


def _adopt(
    *,
    orphan: Orphan,
    tenant: Tenant,
    client: IntegratorClient,
    by: str,
    requested_by: str,
    slot_key: str,
) -> Orphan:
    if orphan.status != OrphanStatus.OPEN:
        raise OrphanNotActionable(f"The orphan is {orphan.status}; only an open one is adopted.")
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; it takes nothing new.")
    if orphan.kind == OrphanKind.CONNECTION:
        slot_key = _connection_adopt(orphan, tenant, client, slot_key)
        what = f"slot {slot_key} of tenant {tenant.external_id}"
        provisioning_request_when_ready(tenant=tenant, requested_by=requested_by)
    else:
        _integration_adopt(orphan, tenant, client)
        what = f"tenant {tenant.external_id}"
        # With every slot connected, provisioning goes on from the adopted integration;
        # otherwise it starts when the last slot is connected, as always.
        provisioning_request_when_ready(tenant=tenant, requested_by=requested_by)
    adopted = Orphan.objects.filter(pk=orphan.pk, status=OrphanStatus.OPEN).update(
        status=OrphanStatus.ADOPTED,
        resolved_at=timezone.now(),
        resolution=f"Adopted into {what} by {by}.",
        tenant=tenant,
    )
    orphan.refresh_from_db()
    if adopted:
        audit_record(
            action="orphan.adopt",
            target=orphan,
            tenant=tenant.external_id,
            before={"status": OrphanStatus.OPEN},
            after={"status": orphan.status, "kind": orphan.kind, "remote_id": orphan.remote_id},
        )
    return orphan


def _integration_adopt(orphan: Orphan, tenant: Tenant, client: IntegratorClient) -> None:
    if tenant.integration_id:
        raise OrphanNotActionable(
            f"The tenant already has an integration ({tenant.integration_id}); only a tenant "
            "without one can adopt an integration."
        )
    if tenant.status not in (TenantStatus.AWAITING_CREDENTIALS, TenantStatus.FAILED):
        raise OrphanNotActionable(
            f"The tenant is {tenant.status}; adopt into a tenant that is waiting for "
            "credentials or failed."
        )
    doc = _read(client.get_integration, orphan.remote_id).raw
    mark = integration_mark(doc)
    if mark is None or not mark.is_ours:
        raise OrphanNotActionable("The integration does not carry this deployment's mark.")
    if mark.template_key and mark.template_key != tenant.template.key:
        raise OrphanNotActionable(
            f"The integration was cloned from template {mark.template_key!r}; the tenant uses "
            f"{tenant.template.key!r}."
        )
    tag = integration_tag(tenant_uid=tenant.uid, template_key=tenant.template.key)
    name = integration_name(
        template_name=tenant.template.name, tenant_name=tenant.name, tenant_uid=tenant.uid
    )
    client.modify_integration(orphan.remote_id, lambda doc: doc.update(tag=tag, name=name))
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.integration_id:
            raise OrphanNotActionable("The tenant got an integration meanwhile.")
        Tenant.objects.filter(pk=tenant.pk).update(
            integration_id=orphan.remote_id, updated_at=timezone.now()
        )
    tenant.integration_id = orphan.remote_id


def _connection_adopt(
    orphan: Orphan, tenant: Tenant, client: IntegratorClient, slot_key: str
) -> str:
    doc = _read(client.get_connection, orphan.remote_id).raw
    mark = connection_mark(doc)
    if mark is None or not mark.is_ours:
        raise OrphanNotActionable("The connection does not carry this deployment's mark.")
    slot_key = slot_key or mark.slot_key or ""
    slot = tenant.template_version.slot(slot_key)
    if slot is None:
        raise SlotNotInTemplate(
            f"The template {tenant.template.key!r} has no slot {slot_key!r}.",
            fields={"slot": [f"Not a slot of {tenant.template.key}."]},
        )
    row, _ = TenantConnection.objects.get_or_create(tenant=tenant, slot_key=slot_key)
    if row.connection_id:
        raise OrphanNotActionable(
            f"Slot {slot_key} of the tenant already has a connection ({row.connection_id})."
        )
    name = name_with_mark(
        f"{tenant.name} ({tenant.external_id}) - {slot['label']}", tenant_uid=tenant.uid
    )
    client.patch_connection(
        orphan.remote_id,
        replace_operations(
            {
                "externalId": connection_external_id(tenant_uid=tenant.uid, slot_key=slot_key),
                "name": name,
            }
        ),
    )
    ping = client.ping_connection(orphan.remote_id)
    now = timezone.now()
    with transaction.atomic():
        updated = TenantConnection.objects.filter(pk=row.pk, connection_id="").update(
            connection_id=orphan.remote_id,
            status=ConnectionStatus.OK if ping.ok else ConnectionStatus.FAILED,
            last_ping_at=now,
            last_ping_error=""
            if ping.ok
            # As a check's (runs.checks): the app may repeat the credential it refused.
            else (redact_text(ping.message) or "The connection test failed."),
            updated_at=now,
        )
        if not updated:
            raise OrphanNotActionable(f"Slot {slot_key} of the tenant got a connection meanwhile.")
    return slot_key


def _read(get, remote_id: str):
    try:
        return get(remote_id)
    except NotFoundError:
        raise OrphanNotActionable(
            f"{remote_id} no longer exists in integrator.io; the next scan closes the orphan."
        ) from None

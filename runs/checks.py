"""The scheduled check of a live tenant: ping its connections, re-list its flows, re-judge
its health.

A ping that fails (or a connection integrator.io no longer has) marks the tenant's
connection `failed` and, when it was not failed before, records `connection.failed` in the
same transaction; a ping that works marks it `ok` again. When integrator.io cannot be asked
(our token refused, the network down) nothing about the connection is concluded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.integrator_client import remote_error_for_caller
from core.redaction import redact_text
from integrator.client import IntegratorClient
from integrator.errors import (
    AuthenticationError,
    IntegratorError,
    NotFoundError,
    RateLimitedError,
)
from runs.health import tenant_health_evaluate
from runs.mirror import tenant_flows_refresh
from runs.models import SyncState
from runs.scheduling import sync_state_for
from tenants.connect_links import reconnect_link_create
from tenants.models import ConnectionStatus, Tenant, TenantConnection
from webhooks.models import EventType
from webhooks.services import event_record

logger = logging.getLogger(__name__)

MISSING_CONNECTION_MESSAGE = "The connection no longer exists in integrator.io."


@dataclass
class CheckResult:
    pinged: int = 0
    failed: list[str] | None = None
    error: str = ""
    # What integrator.io answered when it could not be asked (`error` in words): a caller
    # who waits is told what it means (our token refused, or which account is down), not
    # the same "try again" for every cause.
    cause: IntegratorError | None = None


def connection_check_record(*, connection: TenantConnection, ok: bool, message: str = "") -> bool:
    """Write one ping's outcome on the tenant's connection; True if it just went from
    working (or unknown) to failed, in which case `connection.failed` was recorded too."""
    now = timezone.now()
    status = ConnectionStatus.OK if ok else ConnectionStatus.FAILED
    with transaction.atomic():
        previous = (
            TenantConnection.objects.select_for_update()
            .filter(pk=connection.pk)
            .values_list("status", flat=True)
            .first()
        )
        if previous is None:
            return False
        TenantConnection.objects.filter(pk=connection.pk).update(
            status=status, last_ping_at=now, last_ping_error="" if ok else message[:1000]
        )
        went_down = not ok and previous != ConnectionStatus.FAILED
        if went_down:
            # A fresh link to the form for this slot rides along: the host sends it to its
            # customer, who reconnects (an OAuth slot: consents again). Only its id is
            # stored; the webhook body signs it afresh (webhooks.events).
            link = reconnect_link_create(tenant=connection.tenant, slot_key=connection.slot_key)
            event_record(
                tenant=connection.tenant,
                event_type=EventType.CONNECTION_FAILED,
                data={
                    "slot": connection.slot_key,
                    "connection_id": connection.connection_id,
                    "error": message or None,
                    "checked_at": now,
                    "reconnect_link_id": str(link.id) if link else None,
                    "reconnect_expires_at": link.expires_at if link else None,
                },
                dedupe_key=f"connection-failed:{connection.pk}:{now.isoformat()}",
            )
    return went_down


def tenant_connections_check(*, tenant: Tenant, client: IntegratorClient) -> CheckResult:
    """Check the tenant (see the module docstring). Raises only RateLimitedError."""
    now = timezone.now()
    state = sync_state_for(tenant=tenant, now=now)
    result = CheckResult(failed=[])
    connections = TenantConnection.objects.filter(tenant=tenant).exclude(connection_id="")
    try:
        for connection in connections.select_related("tenant"):
            try:
                ping = client.ping_connection(connection.connection_id)
                # The app's refusal may repeat the credential it refused ("invalid key: Bearer
                # …"), which the service does not know here (a submission's typed values are
                # masked by value): what looks like one is masked before it is kept and shown.
                ok, message = ping.ok, redact_text(ping.message)
            except NotFoundError:
                ok, message = False, MISSING_CONNECTION_MESSAGE
            result.pinged += 1
            connection_check_record(connection=connection, ok=ok, message=message)
            if not ok:
                result.failed.append(connection.slot_key)
        tenant_flows_refresh(tenant=tenant, client=client, now=now)
    except RateLimitedError:
        raise
    except IntegratorError as error:
        result.error = f"integrator.io (connection check): {error}"[:2000]
        if isinstance(error, AuthenticationError):
            # Our own token refused, said so (the tenant's health shows it): the bare "401:
            # the bearer token is missing" read to a host app as its own key refused.
            result.error = remote_error_for_caller(
                error, not_done="its connections were not checked", account=tenant.account
            ).message[:2000]
        result.cause = error
        SyncState.objects.filter(pk=state.pk).update(
            last_error=result.error, consecutive_failures=F("consecutive_failures") + 1
        )
        logger.warning("connection check failed: %s", result.error)
    SyncState.objects.filter(pk=state.pk).update(last_checked_at=now)
    tenant_health_evaluate(tenant=tenant, now=now)
    return result

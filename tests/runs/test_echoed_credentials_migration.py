"""Upgrading: before connection checks masked what an app repeated of the credential it
refused ("invalid key: Bearer sk-…"), that credential was kept in clear in the connection's
last ping error, the tenant's last error, its health and the events that carried them; runs'
migration 0008 masks them as a check masks them now, and leaves every other word alone."""

import pytest
from django.utils import timezone

from runs.models import TenantHealth
from tenants.models import ConnectionStatus, Tenant, TenantConnection
from tests.fixtures.migrations import migrated_back
from webhooks.models import Event

BEFORE = [("runs", "0007_flow_run_error_trace_key")]
AFTER = [("runs", "0008_mask_echoed_credentials")]
SECRET = "sk-Live-9f8e7d6c5b4a3"
ECHOED = f"invalid key: Bearer {SECRET}"


@pytest.mark.django_db(transaction=True)
def test_echoed_credentials_kept_before_are_masked_and_the_rest_kept(acme):
    with migrated_back(BEFORE) as (_, migrate):
        connections = TenantConnection.objects.filter(tenant=acme)
        connections.filter(slot_key="shop").update(
            status=ConnectionStatus.FAILED, last_ping_error=ECHOED
        )
        connections.filter(slot_key="erp").update(
            status=ConnectionStatus.FAILED, last_ping_error="timeout"
        )
        Tenant.objects.filter(pk=acme.pk).update(last_error=f"Shop is offline: {ECHOED}")
        TenantHealth.objects.create(
            tenant=acme,
            status="unhealthy",
            reasons=[f"Shop is offline: {ECHOED}"],
            offline_connections=[{"slot": "shop", "error": ECHOED}],
            computed_at=timezone.now(),
        )
        failed = Event.objects.create(
            event_type="connection.failed",
            tenant_external_id="acme",
            data={"slot": "shop", "error": ECHOED, "attempts": 3},
        )
        active = Event.objects.create(
            event_type="tenant.active", tenant_external_id="acme", data={"note": "Bearer x1"}
        )

        migrate(AFTER)

        masked = "invalid key: Bearer [REDACTED]"
        rows = dict(TenantConnection.objects.values_list("slot_key", "last_ping_error"))
        assert rows == {"shop": masked, "erp": "timeout"}
        assert Tenant.objects.get(pk=acme.pk).last_error == f"Shop is offline: {masked}"
        health = TenantHealth.objects.get(tenant=acme)
        assert health.reasons == [f"Shop is offline: {masked}"]
        assert health.offline_connections == [{"slot": "shop", "error": masked}]
        assert Event.objects.get(pk=failed.pk).data == {
            "slot": "shop",
            "error": masked,
            "attempts": 3,
        }
        # Events that never carry a check's words are not read at all.
        assert Event.objects.get(pk=active.pk).data == {"note": "Bearer x1"}

"""An OAuth slot's connection outlives its access tokens: with 1-second access tokens the
scheduled connection check keeps finding it working (integrator.io, here the sandbox,
refreshes the token), and once the user revokes the grant at the app the check finds it
offline and records `connection.failed`, whose webhook carries a reconnect link that works:
following it and consenting again brings the connection back, with the same id."""

import json
import time

import pytest
from django.test import Client

from core.accounts import integrator_account_default
from core.integrator_client import build_integrator_client
from runs.checks import tenant_connections_check
from sandbox.seed_crm import CRM_INTEGRATION_ID
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, Tenant, TenantConnection
from tenants.services import template_load, tenant_create
from tests.connect.oauth_helpers import connect_by_consent
from tests.fixtures.crm_oauth import DEMO_OAUTH_CLIENTS, crm_template_document
from webhooks.events import event_body
from webhooks.models import Event, EventType

pytestmark = pytest.mark.django_db


def test_the_connection_keeps_working_past_the_token_lifetime_until_revoked(settings, integrator):
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS
    integrator.control.seed_crm()
    integrator.control.configure(crm_access_token_seconds=1)
    template, _ = template_load(document=crm_template_document(integrator))
    tenant, _ = tenant_create(external_id="acme", name="Acme", template=template)
    answer = connect_by_consent(Client(), connect_link_create(tenant=tenant).path)
    assert "CRM is connected" in answer.content.decode()
    # The check also re-lists the tenant's flows: give it an integration to list (the
    # provisioning of a live tenant is the browser test's business).
    Tenant.objects.filter(pk=tenant.pk).update(integration_id=CRM_INTEGRATION_ID)
    tenant.refresh_from_db()

    for _ in range(3):
        time.sleep(1.1)  # the access token the connection holds has expired
        with build_integrator_client(account=integrator_account_default()) as client:
            result = tenant_connections_check(tenant=tenant, client=client)
        assert result.failed == [] and result.pinged == 1
        assert (
            TenantConnection.objects.get(tenant=tenant, slot_key="crm").status
            == ConnectionStatus.OK
        )

    integrator.control.revoke_crm_grants()
    with build_integrator_client(account=integrator_account_default()) as client:
        result = tenant_connections_check(tenant=tenant, client=client)
    assert result.failed == ["crm"]
    row = TenantConnection.objects.get(tenant=tenant, slot_key="crm")
    assert row.status == ConnectionStatus.FAILED
    assert "invalid_grant" in row.last_ping_error
    connection = integrator.api().get(f"{integrator.api_url}/connections/{row.connection_id}")
    assert connection.json()["offline"] is True
    event = Event.objects.get(tenant=tenant, event_type=EventType.CONNECTION_FAILED)
    sent = json.loads(event_body(event=event))["data"]
    assert sent["reconnect_url"].startswith(settings.SERVICE_PUBLIC_URL + "/connect/")
    assert event_body(event=event) == event_body(event=event)  # the same bytes on each attempt
    assert sent["reconnect_url"] not in json.dumps(event.data)  # only the link's id is stored

    reconnect_path = sent["reconnect_url"].removeprefix(settings.SERVICE_PUBLIC_URL)
    answer = connect_by_consent(Client(), reconnect_path)
    assert "CRM is connected" in answer.content.decode()
    with build_integrator_client(account=integrator_account_default()) as client:
        result = tenant_connections_check(tenant=tenant, client=client)
    assert result.failed == []
    again = TenantConnection.objects.get(tenant=tenant, slot_key="crm")
    assert again.status == ConnectionStatus.OK and again.connection_id == row.connection_id

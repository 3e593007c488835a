"""Fixtures of the portal tests: the demo template as published (its `portal` declaration:
four customer-editable settings, the customers and stock flows switchable, the orders flow
and the store id the host's), and `acme`, a live tenant of it whose mirror holds flows and
runs, so the page has everything to show without integrator.io.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import FlowRun, RunStatus, TenantFlow
from tenants.connect_links import PORTAL_SECTIONS, connect_link_create
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import ConnectionStatus, Tenant, TenantConnection, TenantStatus
from tenants.services import template_document_read, template_load, tenant_create
from tests.connect.conftest import ACME_ORIGIN

ORDERS_SOURCE, CUSTOMERS_SOURCE, STOCK_SOURCE = (
    "5eed00000000000000000f01",
    "5eed00000000000000000f02",
    "5eed00000000000000000f03",
)


@pytest.fixture
def portal_template(db):
    template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
    return template


def make_live(tenant: Tenant, *, integration_id: str = "int-acme") -> Tenant:
    Tenant.objects.filter(pk=tenant.pk).update(
        status=TenantStatus.ACTIVE, integration_id=integration_id
    )
    TenantConnection.objects.filter(tenant=tenant).update(
        status=ConnectionStatus.OK, last_ping_at=timezone.now() - timedelta(minutes=3)
    )
    tenant.refresh_from_db()
    return tenant


def add_flow(tenant, flow_id, name, source_id, *, disabled=False) -> TenantFlow:
    return TenantFlow.objects.create(
        tenant=tenant,
        flow_id=flow_id,
        name=name,
        source_id=source_id,
        disabled=disabled,
        refreshed_at=timezone.now(),
    )


def add_runs(tenant, flow_id, count, *, errors=0, status=RunStatus.COMPLETED) -> list[FlowRun]:
    now = timezone.now()
    runs = []
    for number in range(count):
        created = now - timedelta(minutes=15 * (number + 1))
        runs.append(
            FlowRun.objects.create(
                tenant=tenant,
                job_id=f"{flow_id}-job-{number}",
                flow_id=flow_id,
                status=status,
                created_at=created,
                started_at=created,
                ended_at=created + timedelta(seconds=4),
                duration_ms=4000,
                num_success=20 - errors,
                num_error=errors,
                synced_at=now,
            )
        )
    return runs


@pytest.fixture
def acme(portal_template):
    tenant, _ = tenant_create(
        external_id="acme",
        name="Acme Corp",
        template=portal_template,
        allowed_origins=[ACME_ORIGIN],
    )
    for slot in ("shop", "erp"):
        TenantConnection.objects.get_or_create(tenant=tenant, slot_key=slot)
    make_live(tenant)
    add_flow(tenant, "flow-orders", "Shop orders to ERP sales orders", ORDERS_SOURCE)
    add_flow(tenant, "flow-customers", "Shop customers to ERP customers", CUSTOMERS_SOURCE)
    add_flow(
        tenant, "flow-stock", "ERP stock levels to shop inventory", STOCK_SOURCE, disabled=True
    )
    add_runs(tenant, "flow-orders", 2)
    return tenant


@pytest.fixture
def portal_link():
    def issue(tenant, *, sections=PORTAL_SECTIONS, read_only=False, locale=""):
        return connect_link_create(
            tenant=tenant, sections=list(sections), read_only=read_only, locale=locale
        )

    return issue

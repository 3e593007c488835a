"""runs/flow_rows.py writes a tenant's flows in SQL it spells out: the rows it leaves are those
the ORM's upsert left (a flow listed again, one gone, one back, the listing's date), and the
columns it names are columns of their tables."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.mirror import tenant_flows_record
from runs.models import SyncState, TenantFlow
from runs.scheduling import sync_state_for
from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db

_IDENTIFIER = re.compile(r'"([a-z_]+)"')


def _rows(tenant):
    return {
        f.flow_id: (f.name, f.disabled, f.source_id, f.removed_at, f.refreshed_at)
        for f in TenantFlow.objects.filter(tenant=tenant)
    }


def test_a_listing_is_upserted_the_rest_marked_removed_and_a_flow_back_restored():
    tenant, other = TenantFactory(), TenantFactory()
    sync_state_for(tenant=tenant)
    sync_state_for(tenant=other)
    first = timezone.now() - timedelta(hours=1)
    tenant_flows_record(
        tenant=tenant,
        flows=[("f1", "Orders", False, "t1"), ("f2", "Customers", True, "t2")],
        now=first,
    )
    tenant_flows_record(tenant=other, flows=[("f9", "Other", False, "t9")], now=first)
    assert _rows(tenant) == {
        "f1": ("Orders", False, "t1", None, first),
        "f2": ("Customers", True, "t2", None, first),
    }

    # Listed again: f1 renamed and switched off, f2 gone, f3 new (its name cut to 200).
    now = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        tenant_flows_record(
            tenant=tenant,
            flows=[("f1", "Orders v2", True, "t1"), ("f3", "x" * 250, False, "")],
            now=now,
        )
    assert _rows(tenant) == {
        "f1": ("Orders v2", True, "t1", None, now),
        "f2": ("Customers", True, "t2", now, first),
        "f3": ("x" * 200, False, "", None, now),
    }
    assert SyncState.objects.get(tenant=tenant).flows_refreshed_at == now
    # Another tenant's flows are left as they were.
    assert _rows(other) == {"f9": ("Other", False, "t9", None, first)}
    # Every name the three statements use is a column of their tables.
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) == 3, statements
    columns = {f.column for model in (TenantFlow, SyncState) for f in model._meta.concrete_fields}
    tables = {TenantFlow._meta.db_table, SyncState._meta.db_table}
    for sql in statements:
        assert set(_IDENTIFIER.findall(sql)) <= columns | tables, sql

    # f2 back: no longer removed. A listing without source ids is not fresh.
    later = now + timedelta(minutes=1)
    tenant_flows_record(tenant=tenant, flows=[("f2", "Customers", False)], now=later)
    rows = _rows(tenant)
    assert rows["f2"] == ("Customers", False, "", None, later)
    assert rows["f1"][3] == later and rows["f3"][3] == later
    assert SyncState.objects.get(tenant=tenant).flows_refreshed_at is None


def test_an_empty_listing_marks_every_flow_removed():
    tenant = TenantFactory()
    sync_state_for(tenant=tenant)
    tenant_flows_record(tenant=tenant, flows=[("f1", "Orders", False, "t1")])
    now = timezone.now()

    tenant_flows_record(tenant=tenant, flows=[], now=now)

    assert TenantFlow.objects.get(tenant=tenant).removed_at == now
    assert SyncState.objects.get(tenant=tenant).flows_refreshed_at == now

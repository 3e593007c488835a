"""The admin tenant list on a large table: no count of the whole table, an estimate past a
bound, and filters still answer."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import admin_paginator
from tenants.models import Tenant, TenantStatus
from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db

TENANTS = "/admin/tenants/tenant/"


def test_it_counts_the_list_only_up_to_a_bound(admin_client, template, monkeypatch):
    monkeypatch.setattr(admin_paginator, "EXACT_UP_TO", 5)
    TenantFactory.create_batch(12, template=template)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_tenant")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(TENANTS)

    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # Bounded by LIMIT, never the whole table; past the bound, the planner's estimate.
    assert counts and all("LIMIT 6" in sql for sql in counts)
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)
    paginator = response.context["cl"].paginator
    assert paginator.count >= 6
    assert response.context["cl"].show_full_result_count is False


def test_a_small_list_is_counted_exactly_and_filters_answer(admin_client, template):
    TenantFactory.create_batch(3, template=template)
    failed = TenantFactory(template=template)
    Tenant.objects.filter(pk=failed.pk).update(status=TenantStatus.FAILED)

    response = admin_client.get(TENANTS)
    assert response.context["cl"].paginator.count == 4
    response = admin_client.get(TENANTS + "?status__exact=failed")
    assert response.status_code == 200
    assert [t.pk for t in response.context["cl"].result_list] == [failed.pk]
    assert response.context["cl"].paginator.count == 1


def test_an_estimated_count_reads_as_one(admin_client, template, monkeypatch):
    """Past the bound the count is the planner's guess: a fleet of 20,010 tenants read
    "23536 results", "Select all 23536 tenants" and "23536 tenants", as if counted, and an
    operator reporting how many were selected (or acted on) quoted a number off by 3,500."""
    monkeypatch.setattr(admin_paginator, "EXACT_UP_TO", 5)
    TenantFactory.create_batch(12, template=template)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_tenant")

    response = admin_client.get(TENANTS)

    count = int(response.context["cl"].paginator.count)
    page = response.content.decode()
    assert f"about {count}" in page
    assert f">{count} results" not in page and f"\n{count} tenants" not in page
    # Paging still reads the number.
    assert count >= 6 and response.context["cl"].paginator.num_pages >= 1


def test_an_exact_count_is_said_without_about(admin_client, template):
    TenantFactory.create_batch(3, template=template)

    page = admin_client.get(TENANTS + "?q=").content.decode()

    assert "about" not in page.lower().replace("about:", "")
    assert "3 tenants" in page

"""The integration page's "Next run" is when integrator.io runs the flow: its schedule read in
the flow's own timezone (the template flow's, which a clone keeps), not in UTC."""

from datetime import UTC, datetime

from connect.portal_selectors import portal_read
from tenants.models import Tenant
from tests.connect.portal.conftest import CUSTOMERS_SOURCE, ORDERS_SOURCE, STOCK_SOURCE

# Winter: Berlin is UTC+1, so 20:47 UTC is 21:47 in Berlin.
NOW = datetime(2026, 1, 15, 20, 47, tzinfo=UTC)


def _flows_in_berlin(tenant: Tenant) -> None:
    version = tenant.template_version
    version.snapshot = {
        "flows": [
            {"_id": source, "name": source, "timezone": "Europe/Berlin"}
            for source in (ORDERS_SOURCE, CUSTOMERS_SOURCE, STOCK_SOURCE)
        ]
    }
    version.save(update_fields=["snapshot"])
    _every_two_hours(tenant)


def _every_two_hours(tenant: Tenant) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(settings={"sync_interval_minutes": 120})
    tenant.refresh_from_db()


def test_it_reads_the_schedule_in_the_flows_timezone(acme, portal_link):
    _flows_in_berlin(acme)

    portal = portal_read(link=portal_link(acme).link, now=NOW)

    next_runs = {flow.flow.flow_id: flow.next_run_at for flow in portal.flows}
    # `? 0 */2 * * *` in Berlin: 22:00 Berlin, which is 21:00 UTC (22:00 UTC would be 23:00
    # in Berlin, an odd hour the flow does not run at).
    assert next_runs["flow-orders"] == datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
    assert next_runs["flow-customers"] == datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
    assert next_runs["flow-stock"] is None  # off: it does not run


def test_a_flow_without_a_timezone_runs_in_utc(acme, portal_link):
    _every_two_hours(acme)

    portal = portal_read(link=portal_link(acme).link, now=NOW)

    next_runs = {flow.flow.flow_id: flow.next_run_at for flow in portal.flows}
    assert next_runs["flow-orders"] == datetime(2026, 1, 15, 22, 0, tzinfo=UTC)

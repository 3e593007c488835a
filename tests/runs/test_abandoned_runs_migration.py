"""Upgrading: a run still open when its tenant was deprovisioned, before the deprovision
closed such runs, said "running" for ever; runs' migration 0005 closes it as abandoned, its
counts as last read and no end time made up, and leaves every other run as it is."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import FlowRun, RunStatus
from tenants.models import Tenant, TenantStatus
from tests.fixtures.migrations import migrated_back

BEFORE = [("runs", "0004_tenant_flow_source_id")]
AFTER = [("runs", "0005_run_status_abandoned")]


@pytest.mark.django_db(transaction=True)
def test_open_runs_of_deprovisioned_tenants_are_abandoned_and_no_other(acme, globex):
    Tenant.objects.filter(pk=acme.pk).update(status=TenantStatus.DEPROVISIONED)
    Tenant.objects.filter(pk=globex.pk).update(status=TenantStatus.ACTIVE)
    then = timezone.now() - timedelta(days=2)

    with migrated_back(BEFORE) as (old, migrate):
        OldRun = old.get_model("runs", "FlowRun")

        def run(tenant, job_id, status):
            return OldRun.objects.create(
                tenant_id=tenant.pk,
                job_id=job_id,
                flow_id="5eed000000000000000f0001",
                status=status,
                created_at=then,
                started_at=then,
                num_success=4,
                synced_at=then,
            )

        stuck = run(acme, "5eed000000000000000a0001", "running")
        ended = run(acme, "5eed000000000000000a0002", "completed")
        live = run(globex, "5eed000000000000000a0003", "running")

        migrate(AFTER)
        closed = FlowRun.objects.get(pk=stuck.pk)
        assert (closed.status, closed.num_success, closed.ended_at) == (
            RunStatus.ABANDONED,
            4,
            None,
        )
        assert FlowRun.objects.get(pk=ended.pk).status == RunStatus.COMPLETED
        assert FlowRun.objects.get(pk=live.pk).status == RunStatus.RUNNING, "still synced"

        migrate(BEFORE)  # reversible; the run stays closed
        assert OldRun.objects.get(pk=stuck.pk).status == RunStatus.ABANDONED

"""The page reads a fixed number of rows however much the tenant has: one query per kind of
thing (link, version, connections, flows, runs, the settings job and its steps), never one
per slot, flow or run."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provisioning.models import Job, JobKind, JobOrigin, JobStatus, JobStep, StepStatus
from tests.connect.portal.conftest import add_flow, add_runs

pytestmark = pytest.mark.django_db

# link+tenant+template, version, connections, flows, runs (one window query), settings job,
# its steps.
PAGE_QUERIES = 7
# link+tenant+template, the run, its flow (a run without errors reads nothing remote).
RUN_PAGE_QUERIES = 3
# A failed run also reads its errors as last mirrored (the page's short cache held) and,
# as they do not name a connection, whether one of the tenant's connections is not working
# (one query, not one per connection), to lead to the connections when one is.
FAILED_RUN_PAGE_QUERIES = RUN_PAGE_QUERIES + 2


def _settings_job(tenant):
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.UPDATE_SETTINGS,
        requested_by=JobOrigin.FORM,
        status=JobStatus.RUNNING,
        due_at=timezone.now(),
    )
    for position, name in enumerate(["settings", "reconcile", "verify"]):
        JobStep.objects.create(job=job, name=name, position=position, status=StepStatus.PENDING)


def test_the_page_reads_the_same_number_of_rows_for_a_small_and_a_big_tenant(
    acme, portal_link, client, django_assert_num_queries
):
    _settings_job(acme)
    path = portal_link(acme).path
    client.get(path)  # warm: nothing of the first request's setup is counted

    with django_assert_num_queries(PAGE_QUERIES):
        small = client.get(path)

    for number in range(12):
        add_flow(acme, f"flow-extra-{number}", f"Extra flow {number}", f"source-{number}")
        add_runs(acme, f"flow-extra-{number}", 9, errors=number % 3)
    with CaptureQueriesContext(connection) as big:
        response = client.get(path)

    assert small.status_code == response.status_code == 200
    assert len(big.captured_queries) == PAGE_QUERIES
    # And it shows them: five runs per flow, the newest first.
    assert response.content.decode().count('class="run run-') == 2 + 12 * 5


def test_a_run_page_reads_a_fixed_number_of_rows(
    acme, portal_link, client, django_assert_num_queries
):
    path = portal_link(acme).path + "runs/flow-orders-job-0/"
    client.get(path)

    with django_assert_num_queries(RUN_PAGE_QUERIES):
        response = client.get(path)

    assert "This run had no errors." in response.content.decode()


def test_a_failed_run_page_reads_a_fixed_number_of_rows(
    acme, portal_link, client, django_assert_num_queries
):
    from django.core.cache import cache

    from runs.models import FlowRun, RunStatus

    run = FlowRun.objects.get(job_id="flow-orders-job-0")
    FlowRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    path = portal_link(acme).path + "runs/flow-orders-job-0/"
    cache.add(f"connect.portal.run-errors:{run.pk}", 1, 30)  # integrator.io is not asked
    client.get(path)

    with django_assert_num_queries(FAILED_RUN_PAGE_QUERIES):
        response = client.get(path)
    cache.delete(f"connect.portal.run-errors:{run.pk}")

    assert response.status_code == 200

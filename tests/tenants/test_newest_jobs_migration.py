"""The migration that added Tenant.latest_job and previous_job fills them for existing jobs."""

import importlib
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from provisioning.models import Job
from tenants.models import Tenant

migration = importlib.import_module("tenants.migrations.0002_tenant_newest_jobs")


def test_it_points_each_tenant_at_its_two_newest_jobs(acme, globex):
    start = timezone.now() - timedelta(hours=1)
    jobs = []
    for minutes, kind in enumerate(["provision", "update_settings", "repair"]):
        job = Job.objects.create(
            tenant=acme, kind=kind, status="succeeded", requested_by="api", due_at=start
        )
        Job.objects.filter(pk=job.pk).update(created_at=start + timedelta(minutes=minutes))
        jobs.append(job)
    Tenant.objects.update(latest_job=None, previous_job=None)

    migration.newest_jobs_backfill(apps, None)

    acme.refresh_from_db()
    globex.refresh_from_db()
    assert (acme.latest_job_id, acme.previous_job_id) == (jobs[2].pk, jobs[1].pk)
    assert (globex.latest_job_id, globex.previous_job_id) == (None, None)

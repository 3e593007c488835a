"""What a waiting job tells a person: the next attempt's time in its message is the time the
job is due (`next_attempt_at`), also when the wait was lengthened for a lost answer to land."""

import re

from provisioning.models import JobKind, JobStatus
from provisioning.runner import job_run_once
from provisioning.services import job_request
from provisioning.tasks import error_is_outage, error_is_transient


def test_a_job_waiting_after_a_lost_answer_names_the_time_it_is_due(world, versions, monkeypatch):
    tenant = world.tenant("Acme")
    # The job stays here: the session worker never gets its message.
    monkeypatch.setattr("provisioning.services.jobs.send_on_commit", lambda *a, **k: None)
    job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api")
    world.sandbox.control.inject_fault("commit_then_drop", path="/v1/integrations/*/clone", times=1)

    job_run_once(
        job_id=str(job.pk), owner="test", transient=error_is_transient, outage=error_is_outage
    )

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED, job.error_message
    named = re.search(r"next at (\d\d:\d\d:\d\d) UTC", job.error_message)
    assert named, job.error_message
    assert named[1] == f"{job.due_at:%H:%M:%S}", (job.error_message, job.due_at)

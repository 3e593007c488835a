"""Changes the service makes by itself are recorded with the system as the actor, named after
the Celery task that made them (through a real worker); a management command is recorded as
the command, run as a process of its own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from rollouts.models import Rollout, RolloutStatus, RolloutTenant, RolloutTenantState
from rollouts.tasks import rollout_advance_task
from tenants.models import TemplateVersion
from tests.fixtures.factories import template_source_set
from tests.fixtures.live_tenants import wait_for
from tests.fixtures.worker import _test_database_url

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`manage.py` as an operator runs it, in a process of its own, on the test database."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "TEST_DATABASE_URL": _test_database_url(),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_a_job_the_worker_fails_is_recorded_as_the_systems(world):
    template_source_set(world.template, "5eed0000000000000000dead")
    tenant = world.tenant("Missing template")
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.FAILED

    [event] = AuditEvent.objects.filter(action="job.fail")
    assert (event.actor_type, event.actor_id) == ("system", "provisioning.job_run")
    assert (event.target_type, event.target_id, event.tenant) == (
        "job",
        str(job.pk),
        tenant.external_id,
    )
    assert event.changes["status"]["after"] == "failed"
    assert event.changes["error_code"]["after"] == "template_missing"


def test_a_rollout_the_driver_halts_is_recorded_as_the_systems(world):
    tenant = world.tenant("Canary")
    version = TemplateVersion.objects.get(template=world.template)
    rollout = Rollout.objects.create(
        template=world.template,
        to_version=version,
        strategy="percent",
        wave_percent=50,
        max_failure_rate=0,
        status=RolloutStatus.RUNNING,
        created_by="test",
        wave_count=2,
        current_wave=1,
    )
    # Wave 1 has ended, with its one upgrade failed: the driver's next step halts.
    RolloutTenant.objects.create(
        rollout=rollout,
        tenant=tenant,
        wave=1,
        from_version=version,
        state=RolloutTenantState.FAILED,
    )

    rollout_advance_task.delay(str(rollout.pk))

    assert wait_for(lambda: AuditEvent.objects.filter(action="rollout.halt").exists())
    [event] = AuditEvent.objects.filter(action="rollout.halt")
    assert (event.actor_type, event.actor_id) == ("system", "rollouts.advance")
    assert event.target_id == str(rollout.pk)
    assert event.changes["status"] == {"before": "running", "after": "halted"}
    assert "1 of 1 upgrades failed" in event.changes["halt_reason"]["after"]


@pytest.mark.django_db(transaction=True)
def test_a_key_made_by_the_management_command_is_recorded_as_the_commands():
    started = timezone.now()

    made = _manage("create_api_key", "nightly export", "--scope", "tenants:read")

    key = made.stdout.strip()
    [event] = AuditEvent.objects.filter(created_at__gte=started)
    assert (event.action, event.actor_type, event.actor_id) == (
        "api_key.create",
        "command",
        "create_api_key",
    )
    assert event.actor_name  # the OS user who ran it
    assert event.target_id == key.split(".")[0]
    assert event.changes["name"] == {"before": None, "after": "nightly export"}
    assert event.changes["scopes"] == {"before": None, "after": ["tenants:read"]}
    assert key not in str(event.changes)


@pytest.mark.django_db(transaction=True)
def test_an_account_added_by_the_management_command_is_recorded_as_the_commands():
    started = timezone.now()
    token = "eu-account-token-never-recorded-0123"

    _manage(
        "integrator_account",
        "eu-main",
        "--name",
        "EU",
        "--region",
        "eu",
        env={"INTEGRATOR_ACCOUNT_TOKEN": token},
    )

    [event] = AuditEvent.objects.filter(created_at__gte=started)
    assert (event.action, event.actor_type, event.actor_id) == (
        "integrator_account.create",
        "command",
        "integrator_account",
    )
    assert event.changes["token"] == {"before": None, "after": "[REDACTED]"}
    assert token not in str(event.changes)

"""The use cases that start jobs (credentials handed over, settings changed, a job asked
for, an orphan adopted): every write to jobs from outside the engine goes through these.

The package is split by subject; import from `provisioning.services`.
"""

from provisioning.services.jobs import job_cancel, job_request, job_retry
from provisioning.services.orphans import orphan_adopt, orphan_remove
from provisioning.services.outage_recovery import jobs_resume_after_outage
from provisioning.services.plans import PlanPreview, tenant_plan_preview
from provisioning.services.readiness import (
    CredentialsOutcome,
    credentials_submit,
    oauth_credentials_submit,
    provisioning_request_when_ready,
)
from provisioning.services.tenant_updates import TenantUpdateOutcome, tenant_settings_update

__all__ = [
    "CredentialsOutcome",
    "PlanPreview",
    "TenantUpdateOutcome",
    "credentials_submit",
    "job_cancel",
    "job_request",
    "job_retry",
    "jobs_resume_after_outage",
    "oauth_credentials_submit",
    "orphan_adopt",
    "orphan_remove",
    "provisioning_request_when_ready",
    "tenant_plan_preview",
    "tenant_settings_update",
]

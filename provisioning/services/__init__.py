"""Every write to jobs from outside the engine goes through these functions.

The package is split by subject; import from `provisioning.services`.
"""

from provisioning.services.jobs import job_cancel, job_request, job_retry
from provisioning.services.readiness import provisioning_request_when_ready

__all__ = ["job_cancel", "job_request", "job_retry", "provisioning_request_when_ready"]

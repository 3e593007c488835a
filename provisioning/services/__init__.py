"""Every write to jobs from outside the engine goes through these functions.

The package is split by subject; import from `provisioning.services`.
"""

from provisioning.services.jobs import job_cancel, job_request, job_retry
from provisioning.services.orphans import orphan_adopt, orphan_remove
from provisioning.services.readiness import provisioning_request_when_ready

__all__ = [
    "job_cancel",
    "job_request",
    "job_retry",
    "orphan_adopt",
    "orphan_remove",
    "provisioning_request_when_ready",
]

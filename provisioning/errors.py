"""Errors of the provisioning domain.

The `ApplicationError` subclasses are what callers of the services (API, admin, forms) see;
the exception handler gives each its HTTP status. `StepFailed` and `LeaseLost` stay inside the
engine: the first fails a job for good with a readable message, the second stops a worker
that no longer owns its job.
"""

from core.errors import ConflictError, NotFoundError


class JobNotFound(NotFoundError):
    code = "job_not_found"


class JobConflict(ConflictError):
    """The tenant already has an unfinished job of another kind, or the job cannot do that now."""

    code = "job_in_progress"
    retry_after = 5  # most jobs finish within seconds


class JobNotRetryable(ConflictError):
    """Only a failed or canceled job can be retried; this one is queued, running or
    succeeded."""

    code = "job_not_retryable"


class JobSuperseded(ConflictError):
    """A newer job of the tenant has finished since: only the latest job can be retried."""

    code = "job_superseded"


class JobNotAllowed(ConflictError):
    """The tenant's status does not allow this kind of job (e.g. provisioning an active one)."""

    code = "job_not_allowed"


class CredentialsMissing(ConflictError):
    """A provision asked for before every connection slot works: it would have nothing to do."""

    code = "credentials_missing"


class JobFinished(ConflictError):
    """The job has already ended; it cannot be canceled."""

    code = "job_finished"


class VersionWithoutSnapshot(ConflictError):
    """A version published without a snapshot of its template integration: there is nothing
    to compare a tenant's integration with."""

    code = "version_without_snapshot"


class SettingsDoNotFitVersion(ConflictError):
    """The tenant's settings are not valid under the version's settings schema."""

    code = "settings_invalid_for_version"


class DriftCheckInterrupted(ConflictError):
    """A job of the tenant was under way while its integration was read for a drift check:
    what was read may hold the job's half-made changes, which are no drift."""

    code = "job_in_progress"
    retry_after = 5


class StepFailed(Exception):
    """A step met a condition no retry can fix (bad settings, a template that does not match).

    `code` is a short stable identifier; `message` is written for the person who has to act.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LeaseLost(Exception):
    """Another worker claimed the job, or it was canceled: this worker must stop writing."""


class OrphanNotFound(NotFoundError):
    code = "orphan_not_found"


class OrphanNotActionable(ConflictError):
    """The orphan is resolved already, or is no longer an orphan of this deployment."""

    code = "orphan_not_actionable"

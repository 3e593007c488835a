"""What the rollout services refuse, as the API answers it (core.errors)."""

from core.errors import ConflictError, InvalidInputError, NotFoundError


class RolloutNotFound(NotFoundError):
    code = "rollout_not_found"


class VersionNotFound(InvalidInputError):
    """The version named in the request is not one of the template's (a field of the body,
    hence 400 rather than 404)."""

    code = "version_not_found"


class VersionRetired(ConflictError):
    code = "version_retired"


class RolloutInvalid(InvalidInputError):
    code = "invalid_rollout"


class RolloutInProgress(ConflictError):
    code = "rollout_in_progress"


class NothingToRollOut(ConflictError):
    code = "nothing_to_roll_out"


class RolloutTransitionError(ConflictError):
    """Pausing a completed rollout, resuming a running one, and the like."""

    code = "invalid_rollout_transition"


class TenantVersionConflict(ConflictError):
    code = "tenant_version_conflict"

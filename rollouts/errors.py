"""What the rollout services refuse, as the API answers it (core.errors)."""

from core.errors import ConflictError, InvalidInputError, NotFoundError


class RolloutNotFound(NotFoundError):
    code = "rollout_not_found"


class VersionNotFound(InvalidInputError):
    """The version named in the request body (`to_version`) is not one of the template's: a
    bad field, so a 400 `invalid_fields` naming it, as every refused body field is (README,
    "API conventions"). A version named in a path or query is a 404
    `template_version_not_found` (tenants.errors.TemplateVersionNotFound)."""


class VersionRetired(ConflictError):
    code = "version_retired"


class RolloutInvalid(InvalidInputError):
    """Fields that do not go together (both wave sizes, canaries for the percent strategy) or
    name a tenant that cannot be a canary: a 400 `invalid_fields` naming each, as every
    refused body field is (README, "API conventions"), so that a host app handles one code."""


class RolloutInProgress(ConflictError):
    code = "rollout_in_progress"


class NothingToRollOut(ConflictError):
    code = "nothing_to_roll_out"


class RolloutTransitionError(ConflictError):
    """Pausing a completed rollout, resuming a running one, and the like."""

    code = "invalid_rollout_transition"


class TenantVersionConflict(ConflictError):
    code = "tenant_version_conflict"

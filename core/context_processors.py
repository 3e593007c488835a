"""Template context shared by the admin pages."""

from django.utils.functional import SimpleLazyObject

from core.deployment import deployment_identity


def deployment(request) -> dict:
    # Lazy: only pages that show it (the admin's header) read it.
    return {"deployment_identity": SimpleLazyObject(deployment_identity)}

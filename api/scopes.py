"""What an API key may do: its scopes, and the scope each endpoint needs.

Every API view names the scope of each of its handlers in `required_scopes`, a mapping from the
handler's name ("get", "post", "patch", ...) to a `Scope` (or `ANY_SCOPE` for what any valid key
may read, such as the API's root). `tests/api/test_scopes.py` walks the URLconf and fails for a
view or a handler without one, so a new endpoint cannot be reached by every key by omission.

Scopes are independent: a write scope does not include its read scope (a host app that reads
and writes tenants holds both). docs/access.md has the table.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from rest_framework import exceptions

from api.authentication import CHALLENGE


class Scope(models.TextChoices):
    TENANTS_READ = "tenants:read", "Read tenants: status, connect links, jobs, runs, health, plans"
    TENANTS_WRITE = (
        "tenants:write",
        (
            "Change tenants: register, update, deprovision, connect links, credentials, "
            "provision, repair, retry or cancel jobs, run flows, resolve run errors"
        ),
    )
    TEMPLATES_READ = "templates:read", "Read templates, their versions and diffs, and rollouts"
    TEMPLATES_MANAGE = (
        "templates:manage",
        (
            "Manage template versions and rollouts: retire versions, start and steer rollouts, "
            "pin, unpin and upgrade a tenant"
        ),
    )
    WEBHOOKS_MANAGE = (
        "webhooks:manage",
        (
            "Manage webhooks: endpoints (where events go), signing secrets, the events "
            "recorded, deliveries and replays"
        ),
    )
    OPS_READ = "ops:read", "Read integrator.io's status as this deployment sees it, and orphans"
    OPS_MANAGE = "ops:manage", "Resolve orphans: delete them in integrator.io or adopt them"
    AUDIT_READ = "audit:read", "Read and export the audit log: who changed what, and when"


ALL_SCOPES: tuple[str, ...] = tuple(Scope.values)
# Any valid key, whatever its scopes: what the API says of itself.
ANY_SCOPE = "*"


def handler_name(method: str) -> str:
    """The handler a request method runs: HEAD runs GET's (DRF maps it so)."""
    method = method.lower()
    return "get" if method == "head" else method


def scope_required(view, method: str) -> str | None:
    """The scope a request needs at `view` (ANY_SCOPE for any key), or None when the view has
    no such handler (the request then answers 405) or the method is OPTIONS (metadata only)."""
    required = getattr(view, "required_scopes", None)
    if required is None:
        # Fails closed (a 500, logged) rather than open; tests/api/test_scopes.py catches it
        # before it ships.
        raise ImproperlyConfigured(f"{type(view).__name__} declares no required_scopes.")
    return required.get(handler_name(method))


class InsufficientScope(exceptions.PermissionDenied):
    """403 `insufficient_scope`, naming the scope the request needs (RFC 6750, section 3.1:
    the challenge carries it too)."""

    default_code = "insufficient_scope"

    def __init__(self, *, scope: str, method: str, path: str, held: frozenset[str]):
        what = ", ".join(sorted(held)) if held else "none"
        super().__init__(
            f"This API key lacks the scope `{scope}`, which {method} {path} needs "
            f"(the key's scopes: {what}). Create a key with that scope, or grant it in the "
            "admin (API keys).",
            code="insufficient_scope",
        )
        self.auth_header = f'{CHALLENGE}, error="insufficient_scope", scope="{scope}"'

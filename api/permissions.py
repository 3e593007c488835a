from rest_framework import permissions
from rest_framework_api_key.models import APIKey

from api.scopes import ANY_SCOPE, InsufficientScope, scope_required


class HasApiKey(permissions.BasePermission):
    """Allow only requests authenticated by `ApiKeyAuthentication`."""

    def has_permission(self, request, view):
        return isinstance(request.auth, APIKey)


class HasRequiredScope(permissions.BasePermission):
    """Allow a request only if its key holds the scope the view names for the handler
    (`required_scopes`, api.scopes); otherwise 403 `insufficient_scope` naming it. Runs after
    HasApiKey, so an unauthenticated request still answers 401."""

    def has_permission(self, request, view):
        if not isinstance(request.auth, APIKey):
            return False
        scope = scope_required(view, request.method)
        if scope is None or scope == ANY_SCOPE:
            # No such handler (405 follows) or OPTIONS (metadata), or any key will do.
            return True
        held = request.user.scopes
        if scope not in held:
            path = request.path.rstrip("/") or "/"
            raise InsufficientScope(scope=scope, method=request.method, path=path, held=held)
        return True

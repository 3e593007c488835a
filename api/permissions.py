from rest_framework import permissions
from rest_framework_api_key.models import APIKey


class HasApiKey(permissions.BasePermission):
    """Allow only requests authenticated by `ApiKeyAuthentication`."""

    def has_permission(self, request, view):
        return isinstance(request.auth, APIKey)

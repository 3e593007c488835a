"""The deployment's identity, read-only: it is written once, by a migration."""

from django.contrib import admin

from core.models import Deployment


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("identity", "created_at", "rekeyed_from")
    readonly_fields = ("identity", "created_at", "rekeyed_from")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

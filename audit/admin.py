"""The audit log in the admin: read only for everyone, superusers included. No add, change or
delete (not even the bulk "delete selected" action): events leave only by age."""

from django.contrib import admin

from audit.models import AuditEvent
from core.admin_display import json_block
from core.admin_paginator import EstimatedCountPaginator


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_type", "actor", "action", "target", "tenant")
    list_filter = ("actor_type", "action", "target_type", "created_at")
    search_fields = ("tenant", "target_id", "actor_id", "actor_name", "request_id", "action")
    # A year of events is millions of rows: no exact count past a bound (the paginator), and no
    # date bar (`date_hierarchy` reads the distinct months or days of every matching event on
    # each page, seconds on a million rows); the created_at filter narrows by date instead.
    paginator = EstimatedCountPaginator
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fields = (
        "created_at",
        "actor_type",
        "actor_id",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "tenant",
        "changes_shown",
        "request_id",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description="Actor")
    def actor(self, event):
        return " / ".join(part for part in (event.actor_name, event.actor_id) if part) or "-"

    @admin.display(description="Target")
    def target(self, event):
        return f"{event.target_type} {event.target_id}"

    @admin.display(description="Changes")
    def changes_shown(self, event):
        return json_block(event.changes)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

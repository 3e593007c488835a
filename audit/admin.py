"""The audit log in the admin: read only for everyone, superusers included. No add, change or
delete (not even the bulk "delete selected" action): events leave only by age."""

from django.contrib import admin

from audit.models import AuditEvent
from audit.selectors import audit_values_used
from core.admin_display import json_block
from core.admin_paginator import EstimatedCountPaginator


class _UsedValueFilter(admin.SimpleListFilter):
    """The values a column holds, as Django's own field filter offers them (same parameter,
    `<column>__exact`), read through the column's index (audit.selectors.audit_values_used)
    instead of a DISTINCT over every event on every page."""

    column = ""

    def lookups(self, request, model_admin):
        return [(value, value) for value in audit_values_used(column=self.column)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.column: value}) if value else queryset


class ActionFilter(_UsedValueFilter):
    title = "action"
    parameter_name = "action__exact"
    column = "action"


class TargetTypeFilter(_UsedValueFilter):
    title = "target type"
    parameter_name = "target_type__exact"
    column = "target_type"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_type", "actor", "action", "target", "tenant")
    list_filter = ("actor_type", ActionFilter, TargetTypeFilter, "created_at")
    search_fields = ("tenant", "target_id", "actor_id", "actor_name", "request_id", "action")
    # A year of events is millions of rows: no exact count past a bound (the paginator), and no
    # date bar (`date_hierarchy` reads the distinct months or days of every matching event on
    # each page, seconds on a million rows); the created_at filter narrows by date instead. The
    # action and target type filters read their values through an index, not a DISTINCT.
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

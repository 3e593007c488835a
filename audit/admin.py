"""The audit log in the admin: read only for everyone, superusers included. No add, change or
delete (not even the bulk "delete selected" action): events leave only by age."""

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html

from audit.models import AuditEvent
from audit.selectors import audit_values_used
from core.admin_display import json_block
from core.admin_paginator import EstimatedCountPaginator

# What an event's target is, by its type: the apps above name their objects and link to their
# admin pages by registration (audit_target_links_register), as audit imports none of them. A
# resolver takes the target ids of a page of events and answers {id: (name, admin url)} for those
# it still has, in one query.
TargetLinks = Callable[[list[str]], dict[str, tuple[str, str]]]
_target_links: dict[str, TargetLinks] = {}


def audit_target_links_register(target_type: str, resolver: TargetLinks) -> None:
    _target_links[target_type] = resolver


def _targets_resolve(events: Iterable[AuditEvent]) -> None:
    """Each event's `_target_link`: its target's (name, admin url), or None; and its
    `_actor_link`, for an actor that is such an object too (an API key)."""
    events = list(events)
    ids = defaultdict(set)
    for event in events:
        if event.target_type in _target_links:
            ids[event.target_type].add(event.target_id)
        if event.actor_type in _target_links:
            ids[event.actor_type].add(event.actor_id)
    found = {
        target_type: _target_links[target_type](sorted(target_ids))
        for target_type, target_ids in ids.items()
    }
    for event in events:
        event._target_link = found.get(event.target_type, {}).get(event.target_id)
        event._actor_link = found.get(event.actor_type, {}).get(event.actor_id)


class _AuditEventChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        _targets_resolve(self.result_list)  # one query a target type, not one a row


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
        "actor",
        "action",
        "target",
        "tenant",
        "changes_shown",
        "request_id",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description="Actor")
    def actor(self, event):
        shown = " / ".join(part for part in (event.actor_name, event.actor_id) if part) or "-"
        if not hasattr(event, "_actor_link"):  # the event's own page
            _targets_resolve([event])
        if event._actor_link is None:
            return shown
        # The name it had then, linked to the key as it is now.
        return format_html('<a href="{}">{}</a>', event._actor_link[1], shown)

    def get_changelist(self, request, **kwargs):
        return _AuditEventChangeList

    @admin.display(description="Target")
    def target(self, event):
        if not hasattr(event, "_target_link"):  # the event's own page
            _targets_resolve([event])
        if event._target_link is None:  # a type no app links to, or an object since deleted
            return f"{event.target_type} {event.target_id}"
        name, url = event._target_link
        return format_html(
            '{} {}: <a href="{}">{}</a>', event.target_type, event.target_id, url, name
        )

    @admin.display(description="Changes")
    def changes_shown(self, event):
        return json_block(event.changes)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

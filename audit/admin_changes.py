"""Admin pages that change rows without a service behind them (a template's name, a link or an
episode deleted by hand) still record who did it: `AuditedModelAdmin` adds an audit event
wherever Django writes its own admin log entry for an add, a change or a delete, with what the
form changed, before and after (secrets masked as in every event), beside the object's name and
Django's own message.

Admins whose saves go through a service that records the change itself (tenants, webhook
endpoints, OAuth clients) set `audit_saves = False`: only their deletions are recorded here,
unless their deletions go through a service too (webhook endpoints: `audit_deletes = False`).
Entries for admin actions (`core.admin_display.admin_action_log`) are never recorded again:
the service each action calls has recorded it.
"""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db.models import Model, QuerySet

from audit.services import Target, audit_record


def _target(obj) -> Target:
    external_id = getattr(obj, "external_id", None)
    tenant = getattr(getattr(obj, "tenant", None), "external_id", "") if not external_id else ""
    return Target(obj._meta.model_name, str(obj.pk), external_id or tenant or "")


def _noun(obj) -> str:
    # As the services name their actions: webhook_endpoint, connect_link.
    return str(obj._meta.verbose_name).replace(" ", "_")


def _form_value(value):
    # A chosen row by its primary key, as the services' events name related rows.
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, QuerySet | list | tuple):
        return [_form_value(item) for item in value]
    return value


def _form_diff(form, *, add: bool) -> tuple[dict, dict]:
    """`before` and `after` of the fields the form changed (every field it has, when adding)."""
    names = form.changed_data if not add else [n for n in form.fields if n in form.cleaned_data]
    before = {} if add else {n: _form_value(form.initial.get(n)) for n in names}
    after = {n: _form_value(form.cleaned_data.get(n)) for n in names}
    return before, after


def _message(entry: LogEntry | None, fallback) -> str:
    if isinstance(entry, LogEntry):
        return entry.get_change_message()
    return str(fallback)


class AuditedModelAdmin(admin.ModelAdmin):
    audit_saves = True
    audit_deletes = True

    def construct_change_message(self, request, form, formsets, add=False):
        # The one place of the add and change views that has the form of the saved object:
        # keep what it changed for log_addition and log_change, which are called next.
        form.instance._audit_diff = _form_diff(form, add=add)
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if self.audit_saves:
            before, after = getattr(obj, "_audit_diff", ({}, {}))
            audit_record(
                action=f"{_noun(obj)}.admin_add",
                target=_target(obj),
                before=before,
                after={"object": str(obj), "admin_log": _message(entry, message), **after},
            )
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        is_action = isinstance(message, str) and message.startswith("Admin action:")
        if self.audit_saves and not is_action and message:
            before, after = getattr(obj, "_audit_diff", ({}, {}))
            audit_record(
                action=f"{_noun(obj)}.admin_change",
                target=_target(obj),
                before=before,
                after={"object": str(obj), "admin_log": _message(entry, message), **after},
            )
        return entry

    def log_deletions(self, request, queryset):
        # Called before the rows are deleted, with every object that will be.
        for obj in queryset if self.audit_deletes else ():
            audit_record(
                action=f"{_noun(obj)}.admin_delete",
                target=_target(obj),
                before={"object": str(obj)},
            )
        return super().log_deletions(request, queryset)

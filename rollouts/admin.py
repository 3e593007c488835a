"""Ops views of rollouts: the list, a rollout's page with its progress per wave and its
tenants, the controls (pause, resume, abort, roll back) as actions that call the services, and
a tenant's rollout history on the tenant page (`tenant_admin_extend`)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Case, Q, When
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from core.admin_display import (
    GREY,
    badge,
    confirmed_objects,
    counted,
    each_object,
    objects_named,
    tenants_named,
)
from core.admin_permissions import ActionPermissions
from rollouts import services
from rollouts.models import (
    SKIPPED_STATES,
    Rollout,
    RolloutStatus,
    RolloutTenant,
    RolloutTenantState,
)
from rollouts.percent import percent
from rollouts.selectors import rollout_progress, tenant_rollout_history
from tenants.admin import TenantAdminExtension, tenant_admin_extend

STATUS_COLOURS = {
    RolloutStatus.RUNNING: "#2563eb",
    RolloutStatus.PAUSED: "#b45309",
    RolloutStatus.HALTED: "#b91c1c",
    RolloutStatus.COMPLETED: "#15803d",
    RolloutStatus.ABORTED: "#374151",
    RolloutStatus.ROLLING_BACK: "#7c3aed",
    RolloutStatus.ROLLED_BACK: "#374151",
}
# The columns of the progress table: every state, in the order a tenant goes through them.
_STATES = RolloutTenantState.values


# A rollout's page shows this many of its tenants (the failed first): one over a fleet of
# 10,000 was a page of 10,000 rows. The API lists them all, a page at a time, by state.
TENANT_ROWS_SHOWN = 100


class _FirstTenantRows(BaseInlineFormSet):
    """The rollout's tenants, failed (or not taken back) first, then in wave order, cut at
    TENANT_ROWS_SHOWN: the inline reads its queryset here, after filtering it by rollout."""

    def get_queryset(self):
        if not hasattr(self, "_first_rows"):
            trouble = Q(state=RolloutTenantState.FAILED) | ~Q(rollback_error="")
            self._first_rows = (
                super()
                .get_queryset()
                .annotate(_trouble=Case(When(trouble, then=0), default=1))
                .order_by("_trouble", "id")[:TENANT_ROWS_SHOWN]
            )
        return self._first_rows


class RolloutTenantInline(admin.TabularInline):
    model = RolloutTenant
    formset = _FirstTenantRows
    extra = 0
    can_delete = False
    fields = (
        "tenant",
        "wave",
        "from_version",
        "state",
        "job",
        "error",
        "rollback_job",
        "rollback_error",
    )
    readonly_fields = fields
    ordering = ("id",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Every column in the one query: the jobs each read by itself made a rollout over a
        # fleet a page of two queries per tenant.
        return (
            super()
            .get_queryset(request)
            .select_related(
                "tenant", "from_version", "from_version__template", "job", "rollback_job"
            )
        )


def _rollout_action(service, verb: str, description: str, *, ask: tuple[str, str] | None = None):
    """An action calling `service` on each selected rollout. With `ask` (the question's verb
    and what the action does that cannot be undone), it asks first, naming the rollouts, as
    deprovisioning does; pause and resume undo each other and do not ask."""

    @admin.action(description=description, permissions=["run_rollout_actions"])
    def action(modeladmin, request, queryset):
        queryset = confirmed_objects(request, queryset)
        if ask is not None and request.POST.get("post") != "yes":
            rollouts = list(
                queryset.select_related("template", "to_version").order_by("-created_at")
            )
            question, consequence = ask
            return TemplateResponse(
                request,
                "admin/rollouts/rollout/action_confirmation.html",
                {
                    **modeladmin.admin_site.each_context(request),
                    "title": f"{question} {counted(rollouts, 'rollout')}?",
                    "action": action.__name__,
                    "action_label": question,
                    "confirm": f"Yes, {question.lower()} "
                    + ("it" if len(rollouts) == 1 else "them"),
                    "consequence": consequence,
                    "objects": rollouts,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": modeladmin.model._meta,
                },
            )
        return each_object(
            modeladmin,
            request,
            queryset,
            lambda rollout: service(rollout=rollout),
            done=lambda rollouts: f"{verb} {counted(rollouts, 'rollout')}.",
            refused=lambda rollouts: (
                capfirst(objects_named(rollouts, "rollout", lambda r: str(r.pk)[:8]))
                + f" not {verb.lower()}"
            ),
        )

    action.__name__ = f"rollout_{service.__name__.removeprefix('rollout_')}"
    return action


@admin.register(Rollout)
class RolloutAdmin(ActionPermissions, admin.ModelAdmin):
    list_display = ("short_id", "template", "version", "status_badge", "progress", "created_at")
    list_filter = ("status", "template")
    list_select_related = ("template", "to_version")
    search_fields = ("id", "template__key")
    inlines = [RolloutTenantInline]
    actions = [
        _rollout_action(services.rollout_pause, "Paused", "Pause the selected rollouts"),
        _rollout_action(services.rollout_resume, "Resumed", "Resume the selected rollouts"),
        _rollout_action(
            services.rollout_abort,
            "Aborted",
            "Abort the selected rollouts…",
            ask=(
                "Abort",
                "Each stops for good: no more of its waves are queued, and it cannot be resumed. "
                "Jobs already queued finish; the tenants it moved stay on its version (roll it "
                "back to move them back).",
            ),
        ),
        _rollout_action(
            services.rollout_rollback,
            "Rolling back",
            "Roll back the selected rollouts…",
            ask=(
                "Roll back",
                "Every tenant each one moved goes back to the version it came from, a wave at a "
                "time, through upgrade jobs; the rollout then stops for good. Taking them forward "
                "again needs a new rollout.",
            ),
        ),
    ]
    readonly_fields = (
        "id",
        "template",
        "to_version",
        "strategy",
        "canary_tenants",
        "wave_percent",
        "wave_size",
        "pause_seconds",
        "max_failure_rate",
        "status_badge",
        "halt_reason",
        "created_by",
        "current_wave",
        "wave_count",
        "next_wave_at",
        "rollback_wave",
        "wave_table",
        "tenants_shown",
        "created_at",
        "updated_at",
        "finished_at",
    )
    fieldsets = [
        (None, {"fields": ("id", "template", "to_version", "status_badge", "halt_reason")}),
        (
            "Plan",
            {
                "fields": (
                    "strategy",
                    "canary_tenants",
                    "wave_percent",
                    "wave_size",
                    "pause_seconds",
                    "max_failure_rate",
                    "created_by",
                )
            },
        ),
        (
            "Progress",
            {
                "fields": (
                    "current_wave",
                    "wave_count",
                    "next_wave_at",
                    "rollback_wave",
                    "wave_table",
                    "tenants_shown",
                )
            },
        ),
        ("Timestamps", {"fields": ("created_at", "updated_at", "finished_at")}),
    ]

    def has_add_permission(self, request):
        return False  # started through the API, which offers the dry run first

    def has_change_permission(self, request, obj=None):
        return False  # every field is read only: steered by the actions, no Save button

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what moved: kept

    @admin.display(description="Rollout", ordering="created_at")
    def short_id(self, rollout):
        return str(rollout.pk)[:8]

    @admin.display(description="Version", ordering="to_version__version")
    def version(self, rollout):
        return f"v{rollout.to_version.version}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, rollout):
        return badge(
            rollout.get_status_display(),
            STATUS_COLOURS.get(rollout.status, GREY),
            title=rollout.halt_reason,
        )

    @admin.display(description="Progress")
    def progress(self, rollout):
        states = rollout_progress(rollout=rollout)["states"]
        moved = states[RolloutTenantState.SUCCEEDED]
        total = sum(states.values()) - sum(states[state] for state in SKIPPED_STATES)
        shown = f"wave {rollout.current_wave}/{rollout.wave_count}, {moved}/{total} moved"
        # After (or during) a rollback, "0/5 moved" alone read as if it had never moved any.
        back = states[RolloutTenantState.ROLLED_BACK]
        return f"{shown}, {back} moved back" if back else shown

    @admin.display(description="Tenants")
    def tenants_shown(self, rollout):
        total = RolloutTenant.objects.filter(rollout=rollout).count()
        if total <= TENANT_ROWS_SHOWN:
            return f"{total} (all in the table below)"
        return format_html(
            "{} of {} tenants shown (failed first) in the table below; all of them, by state, "
            "at <code>GET /api/v1/rollouts/{}/tenants</code>.",
            TENANT_ROWS_SHOWN,
            total,
            rollout.pk,
        )

    @admin.display(description="Per wave")
    def wave_table(self, rollout):
        progress = rollout_progress(rollout=rollout)
        # Words the columns may wrap at: as one word each (skipped_already, ...), they pushed
        # the failure rate out of the page at 1400 pixels.
        header = format_html_join(
            "", "<th>{}</th>", ((state.replace("_", " "),) for state in _STATES)
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td>{}<td>{}</td></tr>",
            (
                (
                    wave["wave"],
                    format_html_join(
                        "", "<td>{}</td>", ((wave["states"][state],) for state in _STATES)
                    ),
                    "-" if wave["failure_rate"] is None else percent(wave["failure_rate"]),
                )
                for wave in progress["waves"]
            ),
        )
        return format_html(
            "<table><tr><th>wave</th>{}<th>failure rate</th></tr>{}</table>", header, rows
        )


class PinnedFilter(admin.SimpleListFilter):
    title = "pinned"
    parameter_name = "pinned"

    def lookups(self, request, model_admin):
        return (("yes", "Pinned: rollouts leave them"), ("no", "Not pinned"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(version_pinned=self.value() == "yes")
        return queryset


def _pin_action(pinned: bool, description: str):
    """Pin (or unpin) each selected tenant to its current version, through
    `services.tenant_pin`, as `PUT`/`DELETE /api/v1/tenants/{id}/pin` do. Those pinned (or
    unpinned) already are said once, together; a tenant being removed is refused, once per
    reason."""
    verb = "Pinned" if pinned else "Unpinned"

    @admin.action(description=description, permissions=["run_rollout_actions"])
    def action(modeladmin, request, queryset):
        tenants = list(queryset.order_by("external_id"))
        already = [tenant for tenant in tenants if tenant.version_pinned == pinned]
        if already:
            several = len(already) > 1
            state = "pinned already" if pinned else "not pinned"
            modeladmin.message_user(
                request,
                f"Not {verb.lower()}: {tenants_named(already)} "
                f"{'are' if several else 'is'} {state}.",
                messages.INFO,
            )
        each_object(
            modeladmin,
            request,
            [tenant for tenant in tenants if tenant.version_pinned != pinned],
            lambda tenant: services.tenant_pin(tenant=tenant, pinned=pinned),
            done=lambda done: _pins_done(done, pinned=pinned),
            refused=lambda refused: f"Not {verb.lower()}: {tenants_named(refused)}",
            reason=lambda tenant, error: (
                "it is being or has been deprovisioned, and can no longer be changed."
                if error.code == "tenant_deprovisioned"
                else error.message
            ),
        )

    action.__name__ = "tenants_pin" if pinned else "tenants_unpin"
    return action


def _pins_done(tenants, *, pinned: bool) -> str:
    them = "them" if len(tenants) > 1 else "it"
    if pinned:
        versions = "their versions" if len(tenants) > 1 else "its version"
        return f"Pinned {tenants_named(tenants)} to {versions}: rollouts leave {them} there."
    return f"Unpinned {tenants_named(tenants)}: rollouts move {them} again."


@tenant_admin_extend
class TenantRollouts(TenantAdminExtension):
    filters = (PinnedFilter,)
    actions = (
        _pin_action(True, "Pin the selected tenants to their versions"),
        _pin_action(False, "Unpin the selected tenants"),
    )
    sections = (("Version and rollouts", ("version_pinned_text", "rollout_history")),)

    @admin.display(description="Pinned")
    def version_pinned_text(self, tenant):
        if tenant.version_pinned:
            return "Pinned: rollouts leave it on its version."
        return "No: rollouts move it."

    @admin.display(description="Rollout history")
    def rollout_history(self, tenant):
        entries = list(tenant_rollout_history(tenant=tenant)[:20])
        if not entries:
            return "-"
        return format_html(
            "<table><tr><th>rollout</th><th>from</th><th>to</th><th>wave</th><th>state</th>"
            "<th>error</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>v{}</td>'
                "<td>v{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        reverse("admin:rollouts_rollout_change", args=[entry.rollout_id]),
                        str(entry.rollout_id)[:8],
                        entry.from_version.version,
                        entry.rollout.to_version.version,
                        entry.wave or "-",
                        entry.get_state_display(),
                        entry.error or entry.rollback_error or "",
                    )
                    for entry in entries
                ),
            ),
        )

"""Ops views of runs, flows and health.

- Runs across tenants, newest first, with a quick filter for failures; a failed run's page
  reads its errors live from integrator.io.
- Flows, with a "Run now" action.
- The account-wide sync's cursors (read only): watermark, last cycle's cost and error.
- The tenant page and list (registered by tenants/admin.py) are extended here with a health
  column and filter, and a "Runs and health" section (health, flows, latest runs). The
  extension subclasses whatever TenantAdmin is registered, so everything it does stays.
"""

from datetime import timedelta

from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from core.admin_display import GREY, badge, each_object, objects_named
from core.admin_permissions import ActionPermissions
from core.errors import ApplicationError
from runs import actions, selectors
from runs.errors import FlowNotFound
from runs.health import HEALTH_SHOWN_FILTERS, health_shown
from runs.models import (
    FINISHED_RUN_STATUSES,
    FlowRun,
    HealthStatus,
    RunStatus,
    RunSyncCursor,
    TenantFlow,
)
from runs.scheduling import LIVE_STATUSES
from tenants.admin import (
    TenantAdminExtension,
    tenant_admin_extend,
    tenant_linked,
    tenant_named,
)
from tenants.services.tenants import GONE_STATUSES

RUN_COLOURS = {
    RunStatus.QUEUED: "#6b7280",
    RunStatus.RUNNING: "#2563eb",
    RunStatus.RETRYING: "#2563eb",
    RunStatus.CANCELING: "#7c3aed",
    RunStatus.COMPLETED: "#15803d",
    RunStatus.FAILED: "#b91c1c",
    RunStatus.CANCELED: "#374151",
    RunStatus.ABANDONED: "#78716c",
}
HEALTH_COLOURS = {
    HealthStatus.UNKNOWN: GREY,
    HealthStatus.HEALTHY: "#15803d",
    HealthStatus.UNHEALTHY: "#b45309",
}
LATEST_RUNS_SHOWN = 15


def run_badge(run: FlowRun):
    label = run.get_status_display()
    if run.status == RunStatus.COMPLETED and run.num_error:
        return badge(f"{label} with errors", "#b45309")
    return badge(label, RUN_COLOURS.get(run.status, GREY))


def _duration(run: FlowRun) -> str:
    if run.duration_ms is None:
        return "-"
    seconds = run.duration_ms / 1000
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}min"


def _when(moment) -> str:
    return formats.localize(timezone.localtime(moment)) if moment else ""


class RunOutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [
            ("failed_24h", "Failed, last 24 h"),
            ("failed", "Failed"),
            ("errors", "Completed with errors"),
            ("unfinished", "Not finished"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "failed_24h":
            since = timezone.now() - timedelta(hours=24)
            return queryset.filter(status=RunStatus.FAILED, created_at__gte=since)
        if value == "failed":
            return queryset.filter(status=RunStatus.FAILED)
        if value == "errors":
            return queryset.filter(status=RunStatus.COMPLETED, num_error__gt=0)
        if value == "unfinished":
            return queryset.exclude(status__in=FINISHED_RUN_STATUSES)
        return queryset


@admin.register(FlowRun)
class FlowRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "tenant_shown",
        "flow",
        "status_badge",
        "num_success",
        "num_error",
        "num_ignore",
        "duration",
        "ended_at",
    )
    list_filter = (RunOutcomeFilter, "status")
    list_select_related = ("tenant",)
    search_fields = ("tenant__external_id", "=job_id", "=flow_id")
    date_hierarchy = "created_at"
    list_per_page = 50
    ordering = ("-created_at", "-id")
    fields = (
        "tenant_linked",
        "job_id",
        "flow_id",
        "status_badge",
        "created_at",
        "started_at",
        "ended_at",
        "duration",
        "num_success",
        "num_error",
        "num_ignore",
        "num_resolved",
        "num_export",
        "num_pages",
        "synced_at",
        "job_errors",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.with_flow_names(super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # A run is what integrator.io reported, every field read only: the page showed Save
        # and "Save and continue editing", which saved nothing.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The tenant with its incarnation where that tells it apart (tenants.admin.tenant_named).
    @admin.display(description="Tenant", ordering="tenant__external_id")
    def tenant_shown(self, run):
        return tenant_named(run.tenant)

    @admin.display(description="Tenant")
    def tenant_linked(self, run):
        return tenant_linked(run.tenant)

    @admin.display(description="Flow", ordering="flow_name")
    def flow(self, run):
        return run.flow_name or run.flow_id

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run):
        return run_badge(run)

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, run):
        return _duration(run)

    @admin.display(description="Errors (read now from integrator.io)")
    def job_errors(self, run):
        if run.status != RunStatus.FAILED and not run.num_error:
            return "-"
        try:
            errors = actions.run_errors_fetch(tenant=run.tenant, job_id=run.job_id)
        except ApplicationError as error:
            return error.message
        if not errors:
            return "integrator.io reports no errors for this run."
        return format_html(
            "<table><tr><th>Code</th><th>Source</th><th>Message</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((e.code or "", e.source or "", e.message) for e in errors),
            ),
        )


class FlowEnabledFilter(admin.SimpleListFilter):
    """Enabled or not, said positively (the model stores integrator.io's `disabled`)."""

    title = "enabled"
    parameter_name = "enabled"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(disabled=self.value() == "no")
        return queryset


class FlowRemovedFilter(admin.SimpleListFilter):
    """Still in the integration or removed from it: Django's filter of a date column said
    "Empty" and "Not empty" of `removed_at`."""

    title = "removal"
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return [("no", "In the integration now"), ("yes", "Removed from it")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(removed_at__isnull=self.value() == "no")
        return queryset


@admin.register(RunSyncCursor)
class RunSyncCursorAdmin(admin.ModelAdmin):
    """What ops look at when runs stop appearing: a cursor is written only by its cycle."""

    list_display = (
        "key",
        "watermark",
        "last_synced_at",
        "next_sync_at",
        "last_calls",
        "last_jobs",
        "consecutive_failures",
    )
    readonly_fields = [field.name for field in RunSyncCursor._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    # Nobody edits a cursor: moving a watermark by hand could skip runs.
    has_change_permission = has_delete_permission = has_add_permission


@admin.register(TenantFlow)
class TenantFlowAdmin(ActionPermissions, admin.ModelAdmin):
    list_display = ("name", "tenant", "flow_id", "enabled", "removed_at", "refreshed_at")
    list_filter = (FlowEnabledFilter, FlowRemovedFilter)
    list_select_related = ("tenant",)
    search_fields = ("name", "=flow_id", "tenant__external_id")
    readonly_fields = ("tenant", "flow_id", "name", "enabled", "removed_at", "refreshed_at")
    actions = ["run_now"]

    def has_add_permission(self, request, obj=None):
        return False

    # integrator.io's, mirrored: a flow is switched through the tenant's settings (its flow
    # switch), which the job carries to integrator.io and the audit log records; a hand edit of
    # the mirror would do neither, and the next listing would undo it.
    has_change_permission = has_delete_permission = has_add_permission

    @admin.display(description="Enabled", boolean=True, ordering="disabled")
    def enabled(self, flow):
        return not flow.disabled

    @admin.action(description="Run the selected flows now", permissions=["run_tenant_actions"])
    def run_now(self, request, queryset):
        """Refusals are said once per reason, naming a few flows (core.admin_display.each_object,
        as the tenant actions do), and the calls to integrator.io stop at ADMIN_ACTION_SECONDS."""
        runs: dict[int, str] = {}

        def start(flow):
            # A tenant being removed takes its flows with it: flow_run_start says so, as the
            # API does (tenant_deprovisioned), rather than of each flow that it is gone.
            if flow.removed_at is not None and flow.tenant.status not in GONE_STATUSES:
                raise FlowNotFound("It is no longer in the integration.")
            runs[flow.pk] = actions.flow_run_start(tenant=flow.tenant, flow_id=flow.flow_id).job_id

        def named(flows, name=_flow_named):
            return name(flows[0]) if len(flows) == 1 else objects_named(flows, "flow", name)

        each_object(
            self,
            request,
            queryset.select_related("tenant"),
            start,
            done=lambda flows: (
                "Started "
                + named(flows, lambda flow: f"{_flow_named(flow)} (run {runs[flow.pk]})")
                + "."
            ),
            refused=lambda flows: f"Not started: {named(flows)}",
            reason=_run_refusal_shown,
        )


def _no_flows_said(tenant) -> str:
    """Why a tenant lists no flow: "not yet" only of one that has an integration and whose
    flows were never read; a deprovisioned tenant, one never built, or one whose flows were
    all deleted in integrator.io will list none until something is done about it."""
    if tenant.status in GONE_STATUSES:
        return f"None: it is {tenant.get_status_display()}; its integration is gone."
    if not tenant.integration_id:
        return "None: it has no integration in integrator.io."
    removed = [
        flow.name or flow.flow_id
        for flow in selectors.flow_list(tenant=tenant, include_removed=True).order_by("name")
    ]
    if removed:
        return f"None: the integration has none left (removed: {', '.join(removed)})."
    return "No flows listed yet."


def _run_refusal_shown(flow, error: ApplicationError) -> str:
    """Why a flow was not started, with its tenant's status as the tenant's page shows it
    ("Awaiting credentials"), where the API's message (runs.actions) gives the raw value
    ("awaiting_credentials") to a developer. Other refusals as the service says."""
    status = flow.tenant.get_status_display()
    if error.code == "tenant_deprovisioned":
        return f"its tenant is {status}; its flows no longer run."
    if error.code == "tenant_not_live" and flow.tenant.status in LIVE_STATUSES:
        return (
            f"its tenant is {status} but has no integration in integrator.io yet; its flows "
            "run once a repair makes one."
        )
    if error.code == "tenant_not_live":
        return f"its tenant is {status}; its flows run once it is Active or Degraded."
    return error.message


def _flow_named(flow) -> str:
    return f"“{flow.name or flow.flow_id}” of {flow.tenant.external_id}"


# --- the tenant page and list ------------------------------------------------------------


class HealthFilter(admin.SimpleListFilter):
    """The health each row shows (runs.health.health_shown), not the stored row's word."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return HealthStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == HealthStatus.UNKNOWN:
            known = HEALTH_SHOWN_FILTERS[HealthStatus.HEALTHY]
            return queryset.exclude(known | HEALTH_SHOWN_FILTERS[HealthStatus.UNHEALTHY])
        if value in HEALTH_SHOWN_FILTERS:
            return queryset.filter(HEALTH_SHOWN_FILTERS[value])
        return queryset


@tenant_admin_extend
class TenantRunsAndHealth(TenantAdminExtension):
    """What the runs app adds to the tenant pages: health in the list (and its filter), and a
    section with health, flows and the latest runs."""

    columns = ("health_badge",)
    filters = (HealthFilter,)
    select_related = ("health",)
    sections = (("Runs and health", ("health_summary", "flows_summary", "latest_runs")),)

    @admin.display(description="Health", ordering="health__status")
    def health_badge(self, tenant):
        status, reasons = health_shown(tenant=tenant, health=getattr(tenant, "health", None))
        label = badge(HealthStatus(status).label, HEALTH_COLOURS[status], title=" ".join(reasons))
        health = getattr(tenant, "health", None)
        if health and health.failed_runs_24h and status != HealthStatus.UNKNOWN:
            return format_html(
                '{}<span class="cell-note">{} failed/24h</span>', label, health.failed_runs_24h
            )
        return label

    @admin.display(description="Health")
    def health_summary(self, tenant):
        health = selectors.health_get(tenant=tenant)
        sync = selectors.tenant_sync_times(tenant=tenant)
        status, reasons = health_shown(tenant=tenant, health=health)
        parts = [badge(HealthStatus(status).label, HEALTH_COLOURS[status])]
        if reasons:
            parts.append(
                format_html(
                    '<ul class="health-reasons">{}</ul>',
                    format_html_join("", "<li>{}</li>", ((reason,) for reason in reasons)),
                )
            )
        # A date ends no sentence here: the admin's format ends in "p.m." (or "a.m."), and a
        # full stop after it made "5:52 p.m.."; dates go after a colon, without one.
        if health is not None:
            parts.append(
                format_html(
                    "<p>{} runs in the last 24 h, {} failed, {} record errors (computed {} ago)."
                    "</p><p>Last success: {}</p>",
                    health.runs_24h,
                    health.failed_runs_24h,
                    health.errors_24h,
                    timesince(health.computed_at),
                    _when(health.last_success_at) or "never",
                )
            )
        if sync["last_attempt_at"] is not None:
            parts.append(
                format_html(
                    "<p>Runs last synced: {}</p>{}",
                    _when(sync["last_synced_at"]) or "never",
                    format_html("<p>Last attempt failed: {}</p>", sync["last_error"])
                    if sync["last_error"]
                    else "",
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts))

    @admin.display(description="Flows")
    def flows_summary(self, tenant):
        flows = list(selectors.flow_list(tenant=tenant))
        if not flows:
            return _no_flows_said(tenant)
        latest = selectors.latest_run_per_flow(tenant=tenant)
        rows = []
        for flow in flows:
            run = latest.get(flow.flow_id)
            rows.append(
                (
                    flow.name or flow.flow_id,
                    "disabled" if flow.disabled else "enabled",
                    run_badge(run) if run else "-",
                    _when(run.created_at) if run else "",
                )
            )
        return format_html(
            "<table><tr><th>Flow</th><th></th><th>Last run</th><th>At</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Latest runs")
    def latest_runs(self, tenant):
        runs = selectors.latest_runs(tenant=tenant, limit=LATEST_RUNS_SHOWN)
        if not runs:
            return "No runs mirrored yet."
        rows = (
            (
                reverse("admin:runs_flowrun_change", args=[run.pk]),
                _when(run.created_at),
                run.flow_name or run.flow_id,
                run_badge(run),
                run.num_success,
                run.num_error,
                run.num_ignore,
                _duration(run),
            )
            for run in runs
        )
        return format_html(
            "<table><tr><th>Created</th><th>Flow</th><th>Status</th><th>Success</th>"
            "<th>Errors</th><th>Ignored</th><th>Duration</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
                "<td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )

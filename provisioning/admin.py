"""Ops views of jobs (with their steps and API calls) and orphans. Every action calls a service.

The tenant pages get the tenant's jobs, its last job in the list, and the actions that queue
jobs (provision, repair, deprovision) from here (`TenantJobs`, tenants.admin's extension).
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import get_text_list

from audit.admin import audit_target_links_register
from audit.admin_changes import AuditedModelAdmin
from core.admin_display import (
    GREY,
    Refusal,
    admin_action_log,
    badge,
    confirmed_objects,
    counted,
    each_object,
    json_block,
    objects_named,
    tenants_named,
)
from core.admin_permissions import ActionPermissions
from core.errors import ApplicationError
from provisioning.models import (
    ApiCall,
    Drift,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    JobStep,
    Orphan,
    OrphanStatus,
)
from provisioning.selectors import (
    job_newer,
    jobs_by_id_prefix,
    jobs_with_api_call_count,
    tenant_drift,
    tenants_drifted,
)
from provisioning.services import (
    job_cancel,
    job_request,
    job_retry,
    orphan_adopt,
    orphan_remove,
    tenant_settings_update,
)
from tenants.admin import (
    TENANT_NAMED_FIELDS,
    TenantAdminExtension,
    tenant_admin_extend,
    tenant_linked,
    tenant_named,
)
from tenants.models import TenantStatus
from tenants.selectors import tenant_get
from tenants.services.tenants import GONE_STATUSES

STATUS_COLOURS = {
    JobStatus.QUEUED: GREY,
    JobStatus.RUNNING: "#2563eb",
    JobStatus.SUCCEEDED: "#15803d",
    JobStatus.FAILED: "#b91c1c",
    JobStatus.CANCELED: "#374151",
}


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobStepInline(ReadOnlyInline):
    model = JobStep
    fields = (
        "position",
        "name",
        "status",
        "attempts",
        "started_at",
        "finished_at",
        "output_json",
        "error_code",
        "error_message",
    )
    readonly_fields = ("output_json",)
    ordering = ("position",)

    @admin.display(description="Output")
    def output_json(self, step):
        return json_block(step.output) if step.output else "-"


class TenantJobInline(ReadOnlyInline):
    """A tenant's jobs, newest first, each linking to its steps and API calls."""

    model = Job
    fields = (
        "kind",
        "status",
        "requested_by",
        "attempts_shown",
        "created_at",
        "finished_at",
        "error_message",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = True
    verbose_name_plural = "Jobs"

    @admin.display(description="Attempts")
    def attempts_shown(self, job):
        return job.attempts_spent


# Our codes for a call that got no response and was never sent: said in words on the page.
_NOT_SENT = {
    "circuit_open": "not sent, the circuit breaker was open",
    "rate_limit_wait": "not sent, the rate limit asked for too long a wait",
}


class ApiCallInline(ReadOnlyInline):
    model = ApiCall
    fields = ("step", "method", "path", "answer", "duration_ms", "attempt", "error_code")
    readonly_fields = fields
    ordering = ("id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("step")

    @admin.display(description="Status")
    def answer(self, call):
        """The HTTP status, or that none came back and why: an empty status read as a value
        the page failed to show."""
        if call.status is not None:
            return call.status
        if not call.error_code:
            return "no answer"
        why = _NOT_SENT.get(call.error_code)
        return f"no answer ({call.error_code}: {why})" if why else f"no answer ({call.error_code})"


@admin.register(Job)
class JobAdmin(ActionPermissions, admin.ModelAdmin):
    list_display = (
        "short_id",
        "tenant_shown",
        "kind",
        "status_badge",
        "requested_by",
        "attempts_shown",
        "duration",
        "api_call_count",
        "created_at",
    )
    list_filter = ("status", "kind", "requested_by", "created_at")
    list_select_related = ("tenant",)
    search_fields = ("=id", "tenant__external_id", "tenant__name", "error_message")
    raw_id_fields = ("tenant",)
    date_hierarchy = "created_at"
    # The tenant with its incarnation where that tells it apart (tenants.admin.tenant_named).
    # The attempts that count against the cap (attempts_shown), as the list and the API.
    exclude = ("tenant", "attempts")
    readonly_fields = [
        {"tenant": "tenant_linked", "attempts": "attempts_shown"}.get(f.name, f.name)
        for f in Job._meta.fields
    ]
    # What the job is first, then when, what went wrong, and the worker's lease last: in the
    # model's order the lease's fields (inherited from core.leases.Leased) opened the page.
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "id",
                    "tenant_linked",
                    "kind",
                    "status",
                    "requested_by",
                    "target_version",
                    "attempts_shown",
                    "outage_retries",
                )
            },
        ),
        (
            "When",
            {
                "fields": (
                    "created_at",
                    "due_at",
                    "waiting_since",
                    "started_at",
                    "finished_at",
                )
            },
        ),
        ("Error", {"fields": ("error_code", "error_message")}),
        ("Worker's lease", {"fields": ("lease_owner", "lease_generation", "lease_expires_at")}),
    ]
    inlines = [JobStepInline, ApiCallInline]
    actions = ["retry_jobs", "cancel_jobs"]

    def get_queryset(self, request):
        return jobs_with_api_call_count(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        # The list, its messages and the refusals name a job by its short id ("019d1be7"):
        # that finds it too, beside a whole id, a tenant or an error.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        by_prefix = jobs_by_id_prefix(queryset, prefix=search_term)
        if by_prefix is not None:
            results = results | by_prefix
        return results, may_have_duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a job changes through its actions (retry, cancel): no Save buttons

    def has_delete_permission(self, request, obj=None):
        return False  # jobs are the audit trail

    @admin.display(description="Job", ordering="id")
    def short_id(self, job):
        return str(job.pk)[:8]

    @admin.display(description="Tenant", ordering="tenant__external_id")
    def tenant_shown(self, job):
        return tenant_named(job.tenant)

    @admin.display(description="Tenant")
    def tenant_linked(self, job):
        return tenant_linked(job.tenant)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, job):
        shown = badge(job.get_status_display(), STATUS_COLOURS[job.status])
        if job.status != JobStatus.FAILED or not (job.error_code or job.error_message):
            return shown
        # Why it failed, under its status, so that ops filtering by "failed" need not open each
        # job: its code, and its message on hover (the job's page has it whole). Under the
        # badge, not a column of its own: the list keeps within a 1280 px window.
        message = " ".join(job.error_message.split())
        message = message if len(message) <= 300 else message[:299].rstrip() + "…"
        # A code breaks only after its underscores ("integrator_<wbr>rejected"), not mid-word.
        code = format_html_join(
            mark_safe("_<wbr>"),  # a constant: format_html_join escapes its separator
            "{}",
            ((part,) for part in (job.error_code or "error").split("_")),
        )
        return format_html(
            '{}<div class="cell-note cell-code" title="{}">{}</div>', shown, message, code
        )

    @admin.display(description="Attempts", ordering="attempts")
    def attempts_shown(self, job):
        # Those that count against the cap: runs postponed by an outage are its outage retries.
        return job.attempts_spent

    @admin.display(description="Duration")
    def duration(self, job):
        seconds = job.duration_seconds
        return "-" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="API calls", ordering="api_call_count")
    def api_call_count(self, job):
        return job.api_call_count

    @admin.action(
        description="Retry the selected failed or canceled jobs", permissions=["run_job_actions"]
    )
    def retry_jobs(self, request, queryset):
        each_object(
            self,
            request,
            queryset.select_related("tenant"),
            lambda job: job_retry(job=job, requested_by=JobOrigin.ADMIN),
            done=lambda jobs: f"Queued {counted(jobs, 'job')} again: {_jobs(jobs)}.",
            refused=lambda jobs: f"Not retried: {objects_named(jobs, 'job', _job_name)}",
            reason=_retry_refusal_shown,
        )

    @admin.action(
        description="Cancel the selected unfinished jobs", permissions=["run_job_actions"]
    )
    def cancel_jobs(self, request, queryset):
        each_object(
            self,
            request,
            queryset.select_related("tenant"),
            lambda job: job_cancel(job=job),
            done=lambda jobs: f"Canceled {counted(jobs, 'job')}: {_jobs(jobs)}.",
            refused=lambda jobs: f"Not canceled: {objects_named(jobs, 'job', _job_name)}",
        )


def _job_targets(ids: list[str]) -> dict[str, tuple[str, str]]:
    """The audit log's events about jobs ("job 77e86316-…", its id alone) name the job's kind
    and tenant, and link to its page."""
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    jobs = Job.objects.filter(pk__in=valid).select_related("tenant")
    return {
        str(job.pk): (
            f"{job.get_kind_display()} of {tenant_named(job.tenant)}",
            reverse("admin:provisioning_job_change", args=[job.pk]),
        )
        for job in jobs.only("id", "kind", *TENANT_NAMED_FIELDS)
    }


audit_target_links_register("job", _job_targets)


def _job_name(job) -> str:
    return f"{str(job.pk)[:8]} ({job.get_kind_display()} of {job.tenant.external_id})"


def _retry_refusal_shown(job, error: ApplicationError) -> str | Refusal:
    """Why a job was not retried, in the admin's words: the newer job that stands in its way
    by its kind and status as the jobs list shows them and its short id, where the API's
    message (documented as it is) names raw kinds, statuses and the full id. Jobs refused for
    the same reason are said together, without each one's newer job (`Refusal`). Other
    refusals as the service says them."""
    if error.code in ("job_in_progress", "job_superseded"):
        newer = job_newer(job=job)
        if newer is not None:
            named = (
                f"{newer.get_kind_display()}, {newer.get_status_display()}, job {str(newer.pk)[:8]}"
            )
            if error.code == "job_in_progress":
                return Refusal(
                    shared="each one's tenant has a newer job under way, and only a tenant's "
                    "latest job can be retried; once those have finished, queue what is still "
                    "needed from the tenants' list.",
                    alone=f"its tenant has a newer job under way ({named}), and only a tenant's "
                    "latest job can be retried; once that one has finished, queue a new "
                    f"{job.get_kind_display()} from the tenants' list if it is still needed.",
                )
            if newer.status in (JobStatus.FAILED, JobStatus.CANCELED):
                return Refusal(
                    shared="each one's tenant has a newer job that failed or was canceled, and "
                    "only a tenant's latest job can be retried: retry those instead.",
                    alone=f"its tenant has a newer job ({named}), and only a tenant's latest "
                    "job can be retried: retry that one instead.",
                )
            return Refusal(
                shared="each one's tenant has a newer job, and only a tenant's latest job can "
                "be retried: queue what is still needed from the tenants' list.",
                alone=f"its tenant has a newer job ({named}), and only a tenant's latest job "
                f"can be retried: queue a new {job.get_kind_display()} from the tenants' list "
                "if it is still needed.",
            )
    if error.code == "tenant_deprovisioned":
        return f"its tenant is {job.tenant.get_status_display()} and takes no new work."
    return error.message


def _jobs(jobs) -> str:
    return get_text_list([_job_name(job) for job in jobs[:5]], "and") + (
        f" and {len(jobs) - 5} more" if len(jobs) > 5 else ""
    )


# What each kind of job does, as the messages after a tenant action say it.
_QUEUED = {
    JobKind.PROVISION: "provisioning",
    JobKind.REPAIR: "a repair",
    JobKind.DEPROVISION: "deprovisioning",
}


def _tenant_action(kind: str, description: str):
    @admin.action(description=description, permissions=["run_tenant_actions"])
    def action(modeladmin, request, queryset):
        _tenant_jobs_request(modeladmin, request, queryset, kind)

    action.__name__ = f"request_{kind}"
    return action


def _tenant_jobs_request(modeladmin, request, tenants, kind: str) -> None:
    each_object(
        modeladmin,
        request,
        tenants,
        lambda tenant: job_request(tenant=tenant, kind=kind, requested_by=JobOrigin.ADMIN),
        done=lambda done: f"Queued {_QUEUED[kind]} for {tenants_named(done)}.",
        refused=lambda refused: f"Did not queue {_QUEUED[kind]} for {tenants_named(refused)}",
        reason=lambda tenant, error: _refusal_shown(tenant, kind, error),
    )


def _refusal_shown(tenant, kind: str, error: ApplicationError) -> str | Refusal:
    """Why a tenant action was refused, in the admin's words: the tenant's status as its page
    shows it, the slots and the job by name, where the API's message (documented as it is)
    speaks to the host app's developer, with raw statuses and placeholders ("PUT
    /api/v1/tenants/{external_id}/connections/{slot}"). Other refusals as the service says."""
    status = tenant.get_status_display()
    if error.code == "credentials_missing":
        slots = sorted(path.removeprefix("connections.") for path in error.fields)
        return (
            f"it has no working connection yet for {get_text_list(slots, 'and')}. Provisioning "
            "starts by itself once every connection works: when the host app hands the "
            "credentials over, or the customer enters them through a connect link."
        )
    if error.code == "job_not_allowed" and kind == JobKind.PROVISION:
        return (
            f"it is {status}, so it has its integration already; choose Repair the selected "
            "tenants' integrations instead."
        )
    if error.code == "job_not_allowed" and kind == JobKind.REPAIR:
        return (
            f"it is {status}, so it has no integration to repair yet. It is provisioned by "
            "itself once every connection works: when the host app hands the credentials "
            "over, or the customer enters them through a connect link."
        )
    if error.code == "tenant_deprovisioned":
        return f"it is {status} and takes no new work."
    if error.code == "job_in_progress":
        # Said once for every tenant refused so (a fleet busy with a rollout), the job named
        # only for a tenant alone.
        shared = "each has a job under way; select them again once those jobs have finished."
        job = tenant.latest_job
        if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            return Refusal(
                shared=shared,
                alone=f"it has a job under way ({job.get_kind_display()}, "
                f"{job.get_status_display()}, job {str(job.pk)[:8]}); select it again once "
                "that job has finished.",
            )
        return Refusal(
            shared=shared,
            alone="it has a job under way; select it again once that job has finished.",
        )
    return error.message


# The tenants a confirmation page names; past them it says how many more.
CONFIRMATION_ROWS = 100


@admin.action(description="Deprovision the selected tenants…", permissions=["run_tenant_actions"])
def request_deprovision(modeladmin, request, queryset):
    """Asks first, naming the tenants, as Django's delete does: deprovisioning removes each
    tenant's integration from integrator.io and withdraws its links, which cannot be undone.
    Nothing is queued until the confirmation is posted. A tenant deprovisioned already is
    left out, and said to be: asking about it, then saying "Queued deprovisioning" of it, told
    of work that was not done (job_request answers its finished job again)."""
    queryset = confirmed_objects(request, queryset)
    done_already = list(queryset.filter(status=TenantStatus.DEPROVISIONED))
    if done_already:
        verb = "is" if len(done_already) == 1 else "are"
        modeladmin.message_user(
            request,
            f"Not deprovisioned again: {tenants_named(done_already)} {verb} deprovisioned already.",
            messages.INFO,
        )
        queryset = queryset.exclude(status=TenantStatus.DEPROVISIONED)
        if not queryset.exists():
            return None
    if request.POST.get("post") != "yes":
        # The first CONFIRMATION_ROWS named, the rest counted: "select all" on a fleet listed
        # 20,000 rows, a page that took longer to make than the web server waits. The
        # confirmation still names every one, by id.
        ordered = queryset.order_by("external_id")
        pks = list(ordered.values_list("pk", flat=True))
        tenants = list(ordered.select_related("template")[:CONFIRMATION_ROWS])
        return TemplateResponse(
            request,
            "admin/tenants/tenant/deprovision_confirmation.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": f"Deprovision {counted(pks, 'tenant')}?",
                "action": "request_deprovision",
                "action_label": "Deprovision",
                "confirm": f"Yes, deprovision {'it' if len(pks) == 1 else 'them'}",
                "objects": tenants,
                "confirmed_pks": pks,
                "more": len(pks) - len(tenants),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": modeladmin.model._meta,
            },
        )
    _tenant_jobs_request(modeladmin, request, queryset, JobKind.DEPROVISION)
    return None


TENANT_ACTIONS = [
    _tenant_action(JobKind.PROVISION, "Provision the selected tenants"),
    _tenant_action(JobKind.REPAIR, "Repair the selected tenants' integrations"),
    request_deprovision,
]


ORPHAN_STATUS_COLOURS = {
    OrphanStatus.OPEN: "#b45309",
    OrphanStatus.DELETED: "#374151",
    OrphanStatus.ADOPTED: "#15803d",
    OrphanStatus.GONE: GREY,
}


class OrphanAdoptForm(forms.Form):
    tenant = forms.CharField(max_length=128, help_text="The tenant's external id.")
    slot = forms.CharField(
        max_length=64,
        required=False,
        help_text="For a connection: the slot it fills (empty: the slot its mark names).",
    )


@admin.register(Orphan)
class OrphanAdmin(ActionPermissions, admin.ModelAdmin):
    """Found by the orphan scan; resolved by deleting remotely or adopting into a tenant."""

    list_display = (
        "remote_object",
        "account_key",
        "status_badge",
        "name",
        "tenant",
        "reason",
        "seen",
    )
    list_filter = ("status", "kind", "account")
    list_select_related = ("tenant", "account")
    search_fields = ("=remote_id", "name", "mark", "tenant__external_id")
    readonly_fields = [f.name for f in Orphan._meta.fields]
    actions = ["delete_remotely", "adopt"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was found and what was done about it

    # Nine columns did not fit a 1280 px window: the kind under the remote id, both dates in one.
    @admin.display(description="Remote id", ordering="remote_id")
    def remote_object(self, orphan):
        return format_html(
            '{}<span class="cell-note">{}</span>', orphan.remote_id, orphan.get_kind_display()
        )

    @admin.display(description="Last seen", ordering="last_seen_at")
    def seen(self, orphan):
        return format_html(
            '{}<span class="cell-note">first seen {}</span>',
            date_format(timezone.localtime(orphan.last_seen_at), "DATETIME_FORMAT"),
            date_format(timezone.localtime(orphan.first_seen_at), "DATETIME_FORMAT"),
        )

    @admin.display(description="Account", ordering="account__key")
    def account_key(self, orphan):
        return orphan.account.key

    @admin.display(description="Status", ordering="status")
    def status_badge(self, orphan):
        return badge(orphan.get_status_display(), ORPHAN_STATUS_COLOURS[orphan.status])

    @admin.action(
        description="Delete the selected orphans in integrator.io…",
        permissions=["run_orphan_actions"],
    )
    def delete_remotely(self, request, queryset):
        """Asks first, naming each orphan, as deprovisioning does: a delete in integrator.io
        cannot be undone. Nothing is deleted until the confirmation is posted."""
        queryset = confirmed_objects(request, queryset)
        if request.POST.get("post") != "yes":
            orphans = list(queryset.select_related("account").order_by("kind", "remote_id"))
            return TemplateResponse(
                request,
                "admin/provisioning/orphan/delete_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Delete {counted(orphans, 'orphan')} in integrator.io?",
                    "action": "delete_remotely",
                    "action_label": "Delete in integrator.io",
                    "confirm": f"Yes, delete {'it' if len(orphans) == 1 else 'them'}",
                    "objects": orphans,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        by = f"ops user {request.user.get_username()}"
        each_object(
            self,
            request,
            queryset,
            lambda orphan: orphan_remove(orphan=orphan, by=by),
            done=lambda orphans: (
                f"Deleted {counted(orphans, 'orphan')} in integrator.io: "
                + get_text_list([orphan.remote_id for orphan in orphans], "and")
                + "."
            ),
            refused=lambda orphans: (
                f"Not deleted: {objects_named(orphans, 'orphan', lambda orphan: orphan.remote_id)}"
            ),
        )

    @admin.action(
        description="Adopt the selected orphan into a tenant…", permissions=["run_orphan_actions"]
    )
    def adopt(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Adopt one orphan at a time.", messages.WARNING)
            return None
        orphan = queryset.get()
        form = OrphanAdoptForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                tenant = tenant_get(external_id=form.cleaned_data["tenant"])
                orphan_adopt(
                    orphan=orphan,
                    tenant=tenant,
                    slot_key=form.cleaned_data["slot"],
                    by=f"ops user {request.user.get_username()}",
                    requested_by=JobOrigin.ADMIN,
                )
            except ApplicationError as error:
                # Asked again, with what was typed: a mistyped tenant or slot is corrected
                # in place rather than chosen and typed again from the list.
                form.add_error(None, error.message)
            else:
                admin_action_log(self, request, orphan)
                self.message_user(
                    request,
                    f"Adopted {orphan.remote_id} into {tenant.external_id}.",
                    messages.SUCCESS,
                )
                return None
        return TemplateResponse(
            request,
            "admin/provisioning/orphan/adopt.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Adopt {orphan.get_kind_display().lower()} {orphan.remote_id}",
                "orphan": orphan,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


JOB_KIND_SHORT = {"update_settings": "settings"}
JOB_STATUS_SHORT = {"succeeded": "done"}


@tenant_admin_extend
class TenantJobs(TenantAdminExtension):
    columns = ("last_job",)
    select_related = ("latest_job",)
    inlines = (TenantJobInline,)
    actions = tuple(TENANT_ACTIONS)

    def save(modeladmin, request, tenant, *, name, settings_overrides, allowed_origins):
        """New settings of a tenant with an integration are applied to it by a job, queued
        with the change (one event, tenant.update), as the API and the integration page do:
        saved alone, they reached integrator.io only with the tenant's next job of any kind."""
        outcome = tenant_settings_update(
            tenant=tenant,
            requested_by=JobOrigin.ADMIN,
            name=name,
            settings_overrides=settings_overrides,
            allowed_origins=allowed_origins,
        )
        job = outcome.job
        if job is None:
            return
        if job.kind == JobKind.UPDATE_SETTINGS:
            said = f"Queued a settings update (job {str(job.pk)[:8]}) that applies"
        else:  # a job under way applies the settings as they are when it ends
            said = f"The {job.get_kind_display().lower()} job under way ({str(job.pk)[:8]}) applies"
        modeladmin.message_user(
            request, f"{said} the new settings to its integration in integrator.io.", messages.INFO
        )

    @admin.display(description="Last job")
    def last_job(self, tenant):
        job = tenant.latest_job
        if job is None:
            return "-"
        colour = STATUS_COLOURS.get(job.status, GREY)
        kind = JOB_KIND_SHORT.get(job.kind, job.kind)
        status = JOB_STATUS_SHORT.get(job.status, job.status)
        title = f"{job.get_kind_display()}: {job.get_status_display()}"
        return badge(f"{kind}: {status}", colour, title=title)


class DriftStateFilter(admin.SimpleListFilter):
    """By the state the list shows: drifted (the tenant differs now) or cleared."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("drifted", "Drifted"), ("cleared", "Cleared"))

    def queryset(self, request, queryset):
        if self.value() == "drifted":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


@admin.register(Drift)
class DriftAdmin(AuditedModelAdmin):
    """Episodes of drift found by the periodic check. Nothing here changes one (the check
    opens, updates and clears them; a repair is a job), but whoever may delete drift records (an
    administrator) may delete an episode by hand, a record kept past its use, as docs/audit.md
    says (`drift.admin_delete`). An open episode deleted while the tenant still differs from
    its version opens again at the next check, which sends `tenant.drifted` once more."""

    list_display = ("tenant", "state", "found_at", "last_seen_at", "changes_count", "repair_job")
    list_filter = (DriftStateFilter,)
    list_select_related = ("tenant", "repair_job")
    search_fields = ("tenant__external_id", "tenant__name")
    readonly_fields = ("changes_readable",)
    fields = (
        "tenant",
        "version",
        "found_at",
        "last_seen_at",
        "cleared_at",
        "repair_job",
        "changes_readable",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="State")
    def state(self, drift):
        if drift.cleared_at:
            return badge("cleared", "#15803d")
        return badge("drifted", "#b45309", title=f"since {_moment(drift.found_at)}")

    @admin.display(description="Changes")
    def changes_count(self, drift):
        return len(drift.changes)

    @admin.display(description="What differs")
    def changes_readable(self, drift):
        return json_block(drift.changes)


def _moment(moment) -> str:
    """A date and time as the admin writes its own (the tenant page's other fields, the runs
    section): the drift section's "2026-12-02 16:00" beside them read as another clock."""
    return formats.localize(timezone.localtime(moment))


class TenantDriftFilter(admin.SimpleListFilter):
    """The tenants whose integration differs from their version now (an open episode), the
    ones a repair or an upgrade would change, or the others."""

    title = "drift"
    parameter_name = "drift"

    def lookups(self, request, model_admin):
        return (("drifted", "Drifted"), ("not_drifted", "Not drifted (or not checked)"))

    def queryset(self, request, queryset):
        if self.value() == "drifted":
            return tenants_drifted(queryset)
        if self.value() == "not_drifted":
            return tenants_drifted(queryset, drifted=False)
        return queryset


@tenant_admin_extend
class TenantDrift(TenantAdminExtension):
    filters = (TenantDriftFilter,)
    sections = (("Version and drift", ("drift_state",)),)

    @admin.display(description="Drift")
    def drift_state(self, tenant):
        status = tenant_drift(tenant=tenant)
        episode, check = status.episode, status.check
        if tenant.status in GONE_STATUSES:
            # Its integration is gone or going: a check it had while live (or none) says
            # nothing of it now, as the API's drift answers 409 for it.
            return f"Not checked: it is {tenant.get_status_display()}; its integration is gone."
        if episode is None and check is None:
            # Nothing was compared: a green "in sync (not checked yet)" claimed what no check
            # had found, even of a tenant with no integration to compare.
            if not tenant.integration_id:
                return "Not checked: it has no integration in integrator.io yet."
            return "Not checked yet: the periodic drift check has not reached it."
        checked = f"last checked {_moment(check.checked_at)}" if check else "not checked yet"
        if episode is None:
            return format_html("{} ({})", badge("in sync", "#15803d"), checked)
        reasons = format_html_join("", "<li>{}</li>", ((c["reason"],) for c in episode.changes))
        # Formatted here: format_html escapes its arguments into strings first, so a date
        # format in its template raises ValueError, which the admin shows as "-".
        return format_html(
            "{} since {} ({})<ul>{}</ul>",
            badge("drifted", "#b45309"),
            _moment(episode.found_at),
            checked,
            reasons,
        )

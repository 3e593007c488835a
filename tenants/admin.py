"""Ops views of templates, tenants and connect links. Writes go through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.admin import audit_target_links_register
from audit.admin_changes import AuditedModelAdmin
from core.admin_display import (
    GREY,
    admin_action_log,
    badge,
    confirmed_objects,
    counted,
    json_block,
    objects_named,
    share_shown,
    tenants_named,
)
from core.admin_paginator import EstimatedCountPaginator
from core.admin_permissions import ActionPermissions
from core.errors import ApplicationError
from tenants import admin_oauth_clients  # noqa: F401  (registers the OAuth clients)
from tenants.call_costs import account_daily_budget
from tenants.connect_links import connect_link_revoke
from tenants.models import (
    CallPurpose,
    ConnectionStatus,
    ConnectLink,
    IntegrationTemplate,
    TemplateVersion,
    Tenant,
    TenantCallRanking,
    TenantConnection,
    TenantStatus,
)
from tenants.selectors import (
    template_tenant_count,
    template_version_choices,
    tenant_call_costs,
    tenants_by_calls,
    version_tenant_count,
)
from tenants.services import (
    settings_effective,
    template_validate,
    tenant_settings_checked,
    tenant_update,
    translations_errors,
)
from tenants.services.template_snapshots import snapshot_counts
from tenants.services.tenants import GONE_STATUSES, origins_normalize

STATUS_COLOURS = {
    TenantStatus.AWAITING_CREDENTIALS: GREY,
    TenantStatus.PROVISIONING: "#2563eb",
    TenantStatus.ACTIVE: "#15803d",
    TenantStatus.DEGRADED: "#b45309",
    TenantStatus.FAILED: "#b91c1c",
    TenantStatus.DEPROVISIONING: "#7c3aed",
    TenantStatus.DEPROVISIONED: "#374151",
}
# The last job in the tenant list, short enough for its column ("settings: done"); the
# badge's title says it in full.


def _errors_as_text(error: ApplicationError) -> list[str]:
    return [f"{path}: {m}" for path, messages_ in error.fields.items() for m in messages_] or [
        error.message
    ]


class IntegrationTemplateForm(forms.ModelForm):
    class Meta:
        model = IntegrationTemplate
        fields = (
            "key",
            "name",
            "description",
            "source_integration_id",
            "version",
            "is_active",
            "slots",
            "settings_schema",
            "translations",
        )

    def clean(self):
        cleaned = super().clean()
        try:
            template_validate(
                slots=cleaned.get("slots"), settings_schema=cleaned.get("settings_schema")
            )
        except ApplicationError as error:
            raise ValidationError(_errors_as_text(error)) from None
        # Left empty: none (a JSON field reads an empty box as None).
        cleaned["translations"] = cleaned.get("translations") or {}
        problems = translations_errors(cleaned["translations"])
        if problems:
            self.add_error(
                "translations", [f"{path}: {m}" for path, found in problems.items() for m in found]
            )
        return cleaned


@admin.register(IntegrationTemplate)
class IntegrationTemplateAdmin(AuditedModelAdmin):
    form = IntegrationTemplateForm
    list_display = ("key", "name", "version", "is_active", "account", "tenant_count", "updated_at")
    list_filter = ("is_active", "account")
    list_select_related = ("account",)
    search_fields = ("key", "name", "source_integration_id")
    # The account its tenants were cloned in: fixed (manage.py load_template --account).
    readonly_fields = ("account", "created_at", "updated_at")
    # In the form's order, read-only ones in their place: left to Django, the key and the
    # version, read only on an existing template, went to the foot of the page.
    fields = (*IntegrationTemplateForm.Meta.fields, *readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        # A template's version moves only by publishing one (`manage.py load_template`, which
        # keeps versions in order and their snapshots); typed here it would name no version.
        # Its key is what the host app registers tenants by ({"template": key}) and what its
        # template file names: renamed here, registrations failed and the next load_template
        # made another template beside it. A new template still sets it.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "key", "version") if obj is not None else fields

    def has_delete_permission(self, request, obj=None):
        # A published version is history that rollouts and tenants' jobs name, and nobody
        # deletes versions here: Delete on a template with versions could only end in "you
        # lack the permission to delete template versions". Retire a template instead
        # (Is active off); one that never published a version may go.
        return (
            obj is not None
            and not obj.versions.exists()
            and super().has_delete_permission(request, obj)
        )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(tenant_total=template_tenant_count())

    @admin.display(description="Tenants", ordering="tenant_total")
    def tenant_count(self, template):
        return template.tenant_total


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    """Published versions, read-only: a version never changes once tenants may be built to
    it. Retiring is an API call (`POST /api/v1/templates/{key}/versions/{v}/retire`)."""

    list_display = (
        "template",
        "version",
        "published_at",
        "retired_at",
        "tenant_count",
        "snapshot_summary",
    )
    list_filter = ("template",)
    list_select_related = ("template",)
    search_fields = ("template__key", "version", "digest")
    fields = (
        "template",
        "version",
        "source_integration_id",
        "published_at",
        "retired_at",
        "digest",
        "snapshot_summary",
        "snapshot_resources",
        "slots",
        "settings_schema",
        "settings_mapping",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # tenants are built to it (and PROTECT it)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(tenant_total=version_tenant_count())

    @admin.display(description="Tenants", ordering="tenant_total")
    def tenant_count(self, version):
        return version.tenant_total

    @admin.display(description="Snapshot")
    def snapshot_summary(self, version):
        if not version.snapshot:
            return badge("none", title="Published offline: it cannot be rolled out.")
        counts = snapshot_counts(version.snapshot)
        return (
            f"{counts['flows']} flows, {counts['exports']} exports, {counts['imports']} imports "
            f"(taken {version.snapshot.get('taken_at', '?')})"
        )

    @admin.display(description="Snapshot resources")
    def snapshot_resources(self, version):
        """Ids and names only: the documents themselves are for the reconcile engine."""
        snapshot = version.snapshot or {}
        return json_block(
            {
                part: [
                    {"_id": doc.get("_id"), "name": doc.get("name", "")}
                    for doc in snapshot.get(part) or []
                ]
                for part in ("flows", "exports", "imports")
            }
        )


class TenantConnectionInline(admin.TabularInline):
    model = TenantConnection
    extra = 0
    can_delete = False
    fields = ("slot_key", "status", "connection_id", "last_ping_at", "last_ping_error")
    readonly_fields = fields
    verbose_name_plural = "Connections (secrets are never stored)"

    def has_add_permission(self, request, obj=None):
        return False


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ("name", "settings", "allowed_origins")

    def clean_settings(self):
        overrides = self.cleaned_data["settings"]
        if not isinstance(overrides, dict):
            raise ValidationError("Settings must be a JSON object.")
        try:
            overrides, _ = tenant_settings_checked(tenant=self.instance, overrides=overrides)
        except ApplicationError as error:
            raise ValidationError(_errors_as_text(error)) from None
        return overrides

    def clean_allowed_origins(self):
        origins = self.cleaned_data["allowed_origins"]
        if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
            raise ValidationError('A JSON list of origins, e.g. ["https://app.example.com"].')
        try:
            return origins_normalize(origins=origins)
        except ApplicationError as error:
            raise ValidationError(_errors_as_text(error)) from None


def tenant_named(tenant: Tenant) -> str:
    """The tenant as ops read it beside its jobs and runs: "Acme (acme)", and with its
    incarnation where the external id has more than one ("Acme (acme, incarnation 2)"), so
    that the jobs and runs of a customer who left and came back are not all one tenant's.
    (Tenant.__str__ stays as it is: the log lines and the pages that name the current
    tenant alone need no incarnation.)"""
    if tenant.incarnation > 1 or tenant.superseded_at is not None:
        return f"{tenant.name} ({tenant.external_id}, incarnation {tenant.incarnation})"
    return str(tenant)


# What `tenant_named` reads of a tenant, for a query that loads it beside another row
# (`.only("id", ..., *TENANT_NAMED_FIELDS)` over `select_related("tenant")`).
TENANT_NAMED_FIELDS = (
    "tenant__name",
    "tenant__external_id",
    "tenant__incarnation",
    "tenant__superseded_at",
)


def tenant_linked(tenant: Tenant):
    """`tenant_named`, as a link to the tenant's admin page (on a job's or a run's page)."""
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:tenants_tenant_change", args=[tenant.pk]),
        tenant_named(tenant),
    )


class CurrentIncarnationFilter(admin.SimpleListFilter):
    """Current tenants by default; earlier incarnations of re-registered ones on request."""

    title = "incarnation"
    parameter_name = "incarnation"

    def lookups(self, request, model_admin):
        return [("all", "All, with earlier incarnations"), ("earlier", "Earlier incarnations")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Current",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        if self.value() == "earlier":
            return queryset.filter(superseded_at__isnull=False)
        return queryset.filter(superseded_at__isnull=True)


class TemplateVersionFilter(admin.SimpleListFilter):
    """The tenants on one template version: who a rollout would move, who stayed behind."""

    title = "template version"
    parameter_name = "version"

    def lookups(self, request, model_admin):
        return template_version_choices()

    def queryset(self, request, queryset):
        # A string from the link's query string, or the choice's own int when the list
        # shows its counts (`?_facets=True`).
        value = self.value()
        if value is None:
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return queryset.filter(template_version_id=int(value))


@admin.register(Tenant)
class TenantAdmin(ActionPermissions, admin.ModelAdmin):
    """The tenant pages. Other apps add what they hold about a tenant (its jobs and the
    actions that queue them, its runs and health) with `tenant_admin_extend`, so that this
    module imports none of them."""

    form = TenantForm
    # Fits a 1280 px screen beside the admin's sidebar and filters: the tenant's name and
    # template under its external id, short badges, and no "updated" column (it is on the
    # tenant's page, with the status's own date).
    list_display = ["tenant", "status_badge", "connection_health"]
    # The integrator.io account (and so the region) each tenant lives on, as the template and
    # orphan lists filter by it: with tenants in the US and the EU, an account's outage or
    # refused token concerns its tenants only. Shown only when there are several accounts.
    list_filter = ["status", "template", TemplateVersionFilter, "account", CurrentIncarnationFilter]
    # And the integration's id, exactly: the id integrator.io's pages, an orphan, a run's error
    # or a log line name the tenant by.
    search_fields = ("external_id", "name", "=integration_id")
    list_select_related = ["template", "template_version", "account"]
    list_per_page = 50
    # 50,000 tenants: no count of the whole table on every page, and the filtered list's
    # count exact only up to 10,000 rows, estimated past that (core.admin_paginator).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [TenantConnectionInline]
    actions: list = []
    readonly_fields = [
        "external_id",
        "incarnation",
        "superseded_at",
        "uid",
        "template",
        "status_badge",
        "status_changed_at",
        "template_version",
        "account",
        "integration_id",
        "last_error",
        "effective_settings",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "external_id",
                    "name",
                    "template",
                    "template_version",
                    "status_badge",
                    "status_changed_at",
                )
            },
        ),
        ("Incarnation", {"fields": ("incarnation", "superseded_at")}),
        ("integrator.io", {"fields": ("account", "uid", "integration_id", "last_error")}),
        ("Settings", {"fields": ("settings", "effective_settings", "allowed_origins")}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # The version's snapshot is the largest value in the database and no tenant page
            # shows it: decoding it for each of a page's 50 rows cost more than the page.
            .defer("template_version__snapshot")
            .prefetch_related(
                Prefetch("connections", queryset=TenantConnection.objects.order_by("slot_key"))
            )
        )

    def response_action(self, request, queryset):
        # The actions get the list's queryset, with what its columns join (the template and
        # its version, whose JSON is decoded for every row, health) and its connections. For a
        # page of 50 that is cheap; for "select all" on a fleet, 20,000 tenants read so took
        # 50 s before the action began, and the request outlived the web server's timeout.
        # An action reads what it needs of each tenant it reaches.
        return super().response_action(
            request, queryset.select_related(None).prefetch_related(None)
        )

    def has_add_permission(self, request):
        return False  # tenants are registered by the host app, through the API

    def has_delete_permission(self, request, obj=None):
        return False  # deprovisioning removes the integration first; use the action

    def has_change_permission(self, request, obj=None):
        # A tenant being or already deprovisioned takes no change (tenant_changeable_check):
        # its page offered the name, settings and origins with Save, which answered 500.
        if obj is not None and obj.status in GONE_STATUSES:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="Tenant", ordering="external_id")
    def tenant(self, tenant):
        return format_html(
            '<strong>{}</strong><span class="cell-note">{} · {} · {} ({})</span>',
            tenant.external_id,
            tenant.name,
            self.template_version(tenant),
            tenant.account.key,
            tenant.account.region,
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, tenant):
        return badge(tenant.get_status_display(), STATUS_COLOURS.get(tenant.status, GREY))

    @admin.display(description="Template", ordering="template__key")
    def template_version(self, tenant):
        return f"{tenant.template.key} v{tenant.template_version.version}"

    @admin.display(description="Connections")
    def connection_health(self, tenant):
        rows = {c.slot_key: c for c in tenant.connections.all()}
        slots = [slot["key"] for slot in tenant.template_version.slots]
        ok = sum(1 for key in slots if key in rows and rows[key].status == ConnectionStatus.OK)
        failed = sum(
            1 for key in slots if key in rows and rows[key].status == ConnectionStatus.FAILED
        )
        colour = "#15803d" if ok == len(slots) else "#b91c1c" if failed else GREY
        return badge(f"{ok}/{len(slots)} ok", colour)

    @admin.display(description="Effective settings")
    def effective_settings(self, tenant):
        try:
            value = settings_effective(template=tenant.template_version, overrides=tenant.settings)
        except ApplicationError as error:
            return "; ".join(_errors_as_text(error))
        return json_block(value)

    # How the page saves: provisioning's extension (TenantJobs.save) puts its own, which also
    # queues the job that applies new settings to a live integration, as the API does.
    tenant_save = None

    def save_model(self, request, obj, form, change):
        changes = {
            "name": form.cleaned_data["name"],
            "settings_overrides": form.cleaned_data["settings"],
            "allowed_origins": form.cleaned_data["allowed_origins"],
        }
        try:
            if self.tenant_save is None:
                tenant_update(tenant=obj, **changes)
            else:
                self.tenant_save(request, obj, **changes)
        except ApplicationError as error:
            # Nothing was saved (one transaction): say why, rather than "changed successfully".
            request._tenant_not_saved = True
            self.message_user(request, f"Not saved: {error.message}", messages.ERROR)

    def log_change(self, request, obj, message):
        if getattr(request, "_tenant_not_saved", False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, "_tenant_not_saved", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


class TenantAdminExtension:
    """What another app shows and offers on the tenant pages (see tenant_admin_extend).

    Methods named in `columns` and `sections` are display functions like any ModelAdmin's
    (they receive the tenant); `sections` are read-only fieldsets, shown before "Timestamps".
    """

    columns: tuple[str, ...] = ()
    filters: tuple = ()
    select_related: tuple[str, ...] = ()
    inlines: tuple = ()
    actions: tuple = ()
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # How the tenant's page saves its changes instead of tenants.services.tenant_update alone:
    # save(modeladmin, request, tenant, *, name, settings_overrides, allowed_origins), raising
    # ApplicationError when nothing was saved.
    save = None


def tenant_admin_extend(extension: type[TenantAdminExtension]) -> type[TenantAdminExtension]:
    """Add an app's columns, filters, inlines, actions and sections to the tenant admin (a
    class decorator for the app's admin module, which Django imports after this one)."""
    for name in (*extension.columns, *(f for _, fields in extension.sections for f in fields)):
        setattr(TenantAdmin, name, getattr(extension, name))
    TenantAdmin.list_display += list(extension.columns)
    TenantAdmin.list_filter += list(extension.filters)
    TenantAdmin.list_select_related += list(extension.select_related)
    TenantAdmin.inlines += list(extension.inlines)
    TenantAdmin.actions += list(extension.actions)
    if extension.save is not None:
        TenantAdmin.tenant_save = extension.save
    for title, fields in extension.sections:
        TenantAdmin.readonly_fields += list(fields)
        TenantAdmin.fieldsets.insert(len(TenantAdmin.fieldsets) - 1, (title, {"fields": fields}))
    return extension


def _pks(ids: list[str]) -> list[int]:
    return [int(pk) for pk in ids if pk.isdigit()]


def _tenant_targets(ids: list[str]) -> dict[str, tuple[str, str]]:
    """The audit log's events about tenants (their target is the tenant's row id, which the
    log showed as "tenant 5") name the tenant, with its incarnation, and link to its page."""
    return {
        str(tenant.pk): (
            tenant_named(tenant),
            reverse("admin:tenants_tenant_change", args=[tenant.pk]),
        )
        for tenant in Tenant.objects.filter(pk__in=_pks(ids)).only(
            "id", "name", "external_id", "incarnation", "superseded_at"
        )
    }


def _connection_targets(ids: list[str]) -> dict[str, tuple[str, str]]:
    """Events about a tenant's connection ("tenantconnection 10"): the tenant and the slot,
    linked to the tenant's page, where its connections are listed."""
    connections = TenantConnection.objects.filter(pk__in=_pks(ids)).select_related("tenant")
    return {
        str(row.pk): (
            f"{tenant_named(row.tenant)}: {row.slot_key}",
            reverse("admin:tenants_tenant_change", args=[row.tenant_id]),
        )
        for row in connections.only("id", "slot_key", *TENANT_NAMED_FIELDS)
    }


audit_target_links_register("tenant", _tenant_targets)
audit_target_links_register("tenantconnection", _connection_targets)


@admin.register(ConnectLink)
class ConnectLinkAdmin(ActionPermissions, AuditedModelAdmin):
    list_display = ("id", "tenant", "slot_key", "expires_at", "revoked_at", "created_at")
    list_select_related = ("tenant",)
    list_filter = ("revoked_at",)
    search_fields = ("tenant__external_id", "id")
    raw_id_fields = ("tenant",)
    # Read-only: revoking is the action (which asks first), never an edited date.
    readonly_fields = (
        "id",
        "tenant",
        "slot_key",
        "return_url",
        "expires_at",
        "revoked_at",
        "created_at",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Every field is read only: the page showed Save buttons that saved nothing.
        return False

    @admin.action(description="Revoke the selected links…", permissions=["run_tenant_actions"])
    def revoke(self, request, queryset):
        """Asks first, listing the links (never their tokens), as Django's delete does."""
        links = list(
            confirmed_objects(request, queryset)
            .select_related("tenant")
            .order_by("tenant__external_id", "id")
        )
        now = timezone.now()
        live = [link for link in links if link.revoked_at is None and link.expires_at > now]
        # Those left as they are, named with why, before the question (as revoking API keys
        # does): the question counted them only, and the answer said nothing of them.
        revoked = [link for link in links if link.revoked_at is not None]
        expired = [link for link in links if link.revoked_at is None and link.expires_at <= now]
        for left, one, several in (
            (revoked, "is revoked already", "are revoked already"),
            (expired, "has expired", "have expired"),
        ):
            if left:
                self.message_user(
                    request,
                    f"Not revoked: {objects_named(left, 'connect link', _link_name)} "
                    f"{one if len(left) == 1 else several}.",
                    messages.INFO,
                )
        if not live:
            return None
        if request.POST.get("post") != "yes":
            return TemplateResponse(
                request,
                "admin/tenants/connectlink/revoke_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Revoke {counted(live, 'connect link')}?",
                    "action": "revoke",
                    "action_label": "Revoke",
                    "confirm": f"Yes, revoke {'it' if len(live) == 1 else 'them'}",
                    "objects": live,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        for link in live:
            connect_link_revoke(link=link)
            admin_action_log(self, request, link)
        tenants = list({link.tenant.pk: link.tenant for link in live}.values())
        self.message_user(
            request,
            f"Revoked {counted(live, 'connect link')} of {tenants_named(tenants)}. Whoever holds "
            f"{'it' if len(live) == 1 else 'them'} now sees that the link has expired.",
            messages.SUCCESS,
        )
        return None


def _link_name(link: ConnectLink) -> str:
    return f"{str(link.pk)[:8]} of {link.tenant.external_id}"


# --- integrator.io calls per tenant (tenants.call_costs) -----------------------------------------

COSTS_DAYS = 7


@tenant_admin_extend
class TenantCallCosts(TenantAdminExtension):
    sections = (("integrator.io calls", ("call_costs",)),)

    @admin.display(description=f"Calls, last {COSTS_DAYS} days")
    def call_costs(self, tenant):
        costs = tenant_call_costs(tenant=tenant, days=COSTS_DAYS)
        if not costs.total:
            return "No calls counted."
        labels = dict(CallPurpose.choices)
        rows = format_html_join(
            "",
            "<li>{}: {}</li>",
            (
                (labels.get(purpose, purpose), calls)
                for purpose, calls in sorted(costs.totals.items(), key=lambda kv: -kv[1])
            ),
        )
        return format_html(
            "{} {} ({} of the account's budget over these days)<ul>{}</ul>",
            costs.total,
            "call" if costs.total == 1 else "calls",
            share_shown(costs.budget_share),
            rows,
        )


@admin.register(TenantCallRanking)
class TenantCallRankingAdmin(admin.ModelAdmin):
    """Top tenants by integrator.io calls over the last days: who costs the account most."""

    list_display = ("tenant_linked", "name", "status", "recent_calls_display", "budget_share")
    # Each row opens the tenant's own page (its calls by purpose, and all the rest): this
    # proxy's page was a bare copy of the tenant's fields that said nothing of its calls.
    list_display_links = None
    search_fields = ("external_id", "name")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[object_id]))

    @admin.display(description="External id", ordering="external_id")
    def tenant_linked(self, tenant):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:tenants_tenant_change", args=[tenant.pk]),
            tenant.external_id,
        )

    def get_queryset(self, request):
        return tenants_by_calls(days=COSTS_DAYS)

    def get_ordering(self, request):
        # By the annotation: the `ordering` attribute may only name fields.
        return ("-recent_calls", "pk")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=f"Calls, last {COSTS_DAYS} days", ordering="recent_calls")
    def recent_calls_display(self, tenant):
        return tenant.recent_calls

    @admin.display(description="Share of the budget")
    def budget_share(self, tenant):
        return share_shown(
            tenant.recent_calls / (account_daily_budget(tenant.account) * COSTS_DAYS)
        )

"""Ops views of webhook endpoints, events and deliveries. Writes go through the services.

A new endpoint's secret (and a rotated one) is shown once, on the page that answers the save or
the rotation (asked first: the old secret signs beside the new one only for the grace window,
WEBHOOK_SECRET_ROTATION_GRACE_SECONDS, and then stops working); no page shows it again.

An endpoint's URL may carry the host app's own secret (`?token=…`, or in the path as Slack's
incoming webhooks do), and every role sees these pages: the URL is shown masked as the audit
log masks it (core.redaction.redact_url), typed only when the endpoint is added, and changed
through the API, which the host app owns. It is not searchable either: a search would tell
a viewer, letter by letter, what the mask hides.
"""

from datetime import UTC

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import display_for_value
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.admin_changes import AuditedModelAdmin
from core.admin_display import (
    GREY,
    admin_action_log,
    badge,
    confirmed_objects,
    counted,
    each_object,
    json_block,
    objects_named,
    secret_once_response,
)
from core.admin_lookups import MaskedFieldLookups
from core.admin_permissions import ActionPermissions
from core.http_urls import HTTP_URL_MAX_LENGTH, http_url_validate
from core.redaction import redact_url
from webhooks import selectors, services
from webhooks.models import (
    SUBSCRIBABLE_EVENT_TYPES,
    DeliveryStatus,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from webhooks.retention import RETENTION

DELIVERY_COLOURS = {
    DeliveryStatus.PENDING: "#2563eb",
    DeliveryStatus.DELIVERED: "#15803d",
    DeliveryStatus.FAILED: "#b91c1c",
    DeliveryStatus.DEAD: "#7f1d1d",
    DeliveryStatus.CANCELED: GREY,
}


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE_EVENT_TYPES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type. A test event (ping) arrives whatever is ticked.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("description", "event_types", "is_active")


class WebhookEndpointAddForm(WebhookEndpointForm):
    # The API's check, in its words (core.http_urls): Django's URLField took a user name and
    # password (kept and shown in clear), IPv6 literals, any five digits as a port and hosts
    # the HTTP client cannot parse, whose deliveries then failed on every attempt.
    url = forms.CharField(
        label="URL",
        max_length=HTTP_URL_MAX_LENGTH,
        validators=[http_url_validate],
        # As wide as the admin's URL fields; not type="url", whose browser check is another.
        widget=forms.TextInput(attrs={"class": "vURLField"}),
        help_text="An absolute http or https URL (https outside development), as the API takes.",
    )

    class Meta(WebhookEndpointForm.Meta):
        fields = ("url", "description", "event_types", "is_active")


def _secrets_shown_once(
    modeladmin, request, shown: list[tuple[WebhookEndpoint, str]], *, rotated: bool = False
):
    advice = "shown this once; store it in the host app now"
    if rotated:
        # The grace window (services.endpoint_secret_rotate): the host has until then.
        until = [e.previous_secret_expires_at for e, _ in shown if e.previous_secret_expires_at]
        advice += (
            f"; the old secret also signs deliveries until {_utc(min(until))}"
            if until
            else "; the old secret no longer signs deliveries"
        )
    return secret_once_response(
        modeladmin,
        request,
        title="Signing secret" if len(shown) == 1 else "Signing secrets",
        secrets=[(f"Signing secret of {redact_url(e.url)}", secret) for e, secret in shown],
        advice=advice,
    )


def _utc(moment) -> str:
    return timezone.localtime(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


class UrlCheckFilter(admin.SimpleListFilter):
    """Endpoints whose stored URL fails today's check (core.http_urls): stored before it was
    this strict, each delivery to them fails at once, and nothing else found them."""

    title = "URL check"
    parameter_name = "url_check"

    def lookups(self, request, model_admin):
        return (("fails", "Fails (deliveries fail)"), ("passes", "Passes"))

    def queryset(self, request, queryset):
        if self.value() in ("fails", "passes"):
            return selectors.endpoints_by_url_check(queryset, passes=self.value() == "passes")
        return queryset


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(MaskedFieldLookups, ActionPermissions, AuditedModelAdmin):
    # Its services record every change, a deletion included (webhook_endpoint.delete).
    # The URL is shown masked (it may carry the host app's secret), the salts not at all.
    masked_fields = ("url", "secret_salt", "previous_secret_salt")
    audit_saves = audit_deletes = False
    form = WebhookEndpointForm
    list_display = (
        "address",
        "description",
        "is_active",
        "types",
        "secret_rotation",
        "created_at",
    )
    list_filter = ("is_active", UrlCheckFilter)
    search_fields = ("description",)
    actions = ["send_test_event", "rotate_secret"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = WebhookEndpointAddForm if obj is None else WebhookEndpointForm
        return super().get_form(request, obj, **kwargs)

    def _types_field(self, request, obj) -> str:
        # Shown read only, the stored list said "-" of an endpoint that gets every event (none
        # chosen); the list's column says "all", and so does the page.
        return "event_types" if self.has_change_permission(request, obj) else "types"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("url", "description", "event_types", "is_active")
        return (
            "id",
            "address",
            "description",
            self._types_field(request, obj),
            "is_active",
            "secret_rotated_at",
            "previous_secret_until",
            "created_at",
            "updated_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "id",
            "address",
            "types",
            "secret_rotated_at",
            "previous_secret_until",
            "created_at",
            "updated_at",
        )

    @admin.display(description="URL", ordering="url")
    def address(self, endpoint):
        # A URL stored before the check was this strict: said here, not first by a failed
        # delivery. The words name no part of the URL (the mask hides what it must).
        problem = selectors.endpoint_url_problem(endpoint=endpoint)
        if problem is None:
            return redact_url(endpoint.url)
        return format_html(
            '{}<span class="cell-note cell-problem">Deliveries to it fail: {} Change '
            "it through the API (PATCH /api/v1/webhooks/endpoints/{}).</span>",
            redact_url(endpoint.url),
            problem,
            endpoint.pk,
        )

    @admin.display(description="Old secret signs until")
    def previous_secret_until(self, endpoint):
        # When the secret before the last rotation stops signing deliveries; never the secret.
        valid_until = endpoint.previous_secret_valid_until(timezone.now())
        return _utc(valid_until) if valid_until else "-"

    # The rotation and the old secret's end in one column: apart, the list did not fit a 1280 px
    # window (the endpoint's page shows each on its own line).
    @admin.display(description="Secret rotated", ordering="secret_rotated_at")
    def secret_rotation(self, endpoint):
        rotated = _utc(endpoint.secret_rotated_at)
        valid_until = endpoint.previous_secret_valid_until(timezone.now())
        if valid_until is None:
            return rotated
        return format_html(
            '{}<span class="cell-note">Old secret signs until {}</span>', rotated, _utc(valid_until)
        )

    @admin.display(description="Event types")
    def types(self, endpoint):
        return ", ".join(endpoint.event_types) or "all"

    def save_model(self, request, obj, form, change):
        values = {
            "description": form.cleaned_data["description"],
            "event_types": form.cleaned_data["event_types"],
            "is_active": form.cleaned_data["is_active"],
        }
        if change:  # the URL is not on the change form
            services.endpoint_update(endpoint=WebhookEndpoint.objects.get(pk=obj.pk), **values)
            return
        created = services.endpoint_create(url=form.cleaned_data["url"], **values)
        for name in ("id", "secret_salt", "secret_rotated_at", "created_at", "updated_at"):
            setattr(obj, name, getattr(created.endpoint, name))
        obj._state.adding = False
        obj._state.db = created.endpoint._state.db
        request._secret_shown_once = (created.endpoint, created.secret)  # for response_add

    def response_add(self, request, obj, post_url_continue=None):
        made = getattr(request, "_secret_shown_once", None)
        if made is None:
            return super().response_add(request, obj, post_url_continue)
        return _secrets_shown_once(self, request, [made])

    def get_deleted_objects(self, objs, request):
        # The endpoint's delivery log (deliveries and their attempts) goes with it, as through
        # the API (services.endpoint_delete): whoever may delete the endpoint may delete its log,
        # which no one may delete by itself.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        log = {model._meta.verbose_name for model in (WebhookDelivery, WebhookAttempt)}
        return deleted, counts, perms_needed - log, protected

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)

    @admin.action(description="Rotate the signing secret (shown once)…", permissions=["change"])
    def rotate_secret(self, request, queryset):
        """Asks first, naming the endpoints, as revoking API keys does: the old secret signs
        only for the grace window and cannot be had back, and after it the host app refuses
        every delivery until it has the new one."""
        endpoints = list(confirmed_objects(request, queryset).order_by("created_at"))
        if request.POST.get("post") != "yes":
            return TemplateResponse(
                request,
                "admin/webhooks/webhookendpoint/rotate_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": (
                        f"Rotate the signing secret of {counted(endpoints, 'webhook endpoint')}?"
                    ),
                    "action": "rotate_secret",
                    "action_label": "Rotate the signing secret",
                    "confirm": "Yes, rotate " + ("it" if len(endpoints) == 1 else "them"),
                    "objects": endpoints,
                    # None: no grace window, the old secret stops at once.
                    "grace": _grace_words(settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS),
                    "rows": [
                        (redact_url(e.url), e.description, e.secret_rotated_at) for e in endpoints
                    ],
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        shown = []
        for endpoint in endpoints:
            rotated = services.endpoint_secret_rotate(endpoint=endpoint)
            admin_action_log(self, request, endpoint)
            shown.append((rotated.endpoint, rotated.secret))
        return _secrets_shown_once(self, request, shown, rotated=True)

    @admin.action(description="Send a test event (ping)", permissions=["run_delivery_actions"])
    def send_test_event(self, request, queryset):
        """A `ping` to each endpoint selected, through the service the API's
        POST /api/v1/webhooks/endpoints/{id}/ping calls: the answer links to each delivery,
        whose page says what the endpoint answered. Operators may, as they replay deliveries:
        it changes no record."""
        sent = {}

        def ping(endpoint):
            sent[endpoint.pk] = services.endpoint_ping(endpoint=endpoint)

        each_object(
            self,
            request,
            queryset.order_by("created_at"),
            ping,
            done=lambda endpoints: _pinged(endpoints, sent),
            refused=lambda endpoints: "Not sent: " + objects_named(endpoints, "endpoint", str),
        )


def _pinged(endpoints, sent) -> str:
    """Which endpoints a test event is queued for, each with a link to its delivery."""
    links = format_html_join(
        "; ",
        '{} (<a href="{}">its delivery</a>)',
        (
            (
                str(endpoint),
                reverse("admin:webhooks_webhookdelivery_change", args=[sent[endpoint.pk].pk]),
            )
            for endpoint in endpoints
        ),
    )
    said = (
        "its delivery says what the endpoint answered"
        if len(endpoints) == 1
        else "each delivery says what its endpoint answered"
    )
    return format_html("Queued a test event (ping) for {}: {}.", links, said)


def _grace_words(seconds: int) -> str | None:
    """'1 day', '2 hours', '90 seconds': how long an old secret keeps signing, for a person."""
    if not seconds:
        return None
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "duration_ms", "status_code", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ActionPermissions, admin.ModelAdmin):
    list_display = (
        "created_at",
        "event_type",
        "tenant",
        "endpoint",
        "status_badge",
        "attempts",
        "last_status_code",
        "delivered_at",
    )
    list_filter = ("status", "event__event_type", "endpoint")
    list_select_related = ("event", "endpoint")
    search_fields = ("event__tenant_external_id", "=id", "=event__id")
    date_hierarchy = "created_at"
    list_per_page = 50
    inlines = [WebhookAttemptInline]
    actions = ["replay"]
    fields = (
        "id",
        "event",
        "event_data",
        "endpoint",
        "status_badge",
        "attempts",
        "next_attempt",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "replay_of",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a record of what was sent; "Replay" sends it again: no Save buttons

    def has_delete_permission(self, request, obj=None):
        return False  # the log is kept; old records are purged on a schedule

    @admin.display(description="Event", ordering="event__event_type")
    def event_type(self, delivery):
        return delivery.event.event_type

    @admin.display(description="Tenant", ordering="event__tenant_external_id")
    def tenant(self, delivery):
        return delivery.event.tenant_external_id

    @admin.display(description="Status", ordering="status")
    def status_badge(self, delivery):
        return badge(delivery.get_status_display(), DELIVERY_COLOURS.get(delivery.status, GREY))

    @admin.display(description="Next attempt at")
    def next_attempt(self, delivery):
        # Only a pending delivery has one; the column still holds when the last one was due.
        # Formatted as the page's other times are (a method's value is shown as str()).
        return display_for_value(delivery.upcoming_attempt_at(), self.get_empty_value_display())

    @admin.display(description="Event data")
    def event_data(self, delivery):
        return json_block(delivery.event.data)

    @admin.action(
        description="Replay (send the event again; a pending delivery now)",
        permissions=["run_delivery_actions"],
    )
    def replay(self, request, queryset):
        each_object(
            self,
            request,
            queryset.select_related("endpoint", "event"),
            lambda delivery: services.delivery_replay(delivery=delivery),
            done=_replayed,
            refused=lambda deliveries: (
                "Not replayed: "
                + objects_named(deliveries, "delivery", lambda d: str(d.id), "deliveries")
            ),
        )


def _replayed(deliveries) -> str:
    # A pending delivery is not copied but sent now (services.delivery_replay): say so, rather
    # than "queued again" for what was already queued.
    final = [d for d in deliveries if d.status != DeliveryStatus.PENDING]
    pending = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
    said = []
    if final:
        said.append(f"Queued {_counted_deliveries(final)} again{_about(final)}.")
    if pending:
        their = "its" if len(pending) == 1 else "their"
        said.append(
            f"Sending {_counted_deliveries(pending)} now{_about(pending)}, "
            f"not waiting for {their} next retry."
        )
    return " ".join(said)


def _counted_deliveries(deliveries) -> str:
    return counted(deliveries, "delivery", "deliveries")


def _about(deliveries) -> str:
    if len(deliveries) != 1:
        return ""
    event = deliveries[0].event
    # An event about the deployment (integrator.*, orphan.found, rollout.*) has no tenant.
    tenant = f" for {event.tenant_external_id}" if event.tenant_external_id else ""
    return f" ({event.event_type}{tenant})"


@admin.register(Event)
class EventAdmin(AuditedModelAdmin):
    """An event may be deleted by hand (docs/audit.md: `event.admin_delete`) only while no
    delivery hangs off it: a delivery log is kept until the scheduled purge takes it with its
    event (webhooks.retention), and no one may delete it by itself. An event ever sent to an
    endpoint therefore offers no Delete, and "Delete selected events" asks only about the
    others, naming those it leaves: Django's own action ended on "Cannot delete events" for
    the whole selection."""

    list_display = ("created_at", "event_type", "tenant_external_id", "tenant_incarnation", "id")
    list_filter = ("event_type",)
    search_fields = ("tenant_external_id", "=id")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "event_type",
        "tenant",
        "tenant_external_id",
        "tenant_incarnation",
        "data",
        "created_at",
    )
    readonly_fields = fields
    raw_id_fields = ("tenant",)
    # Named as Django's, which it replaces: its confirmation page posts this name back.
    actions = ["delete_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and selectors.event_has_deliveries(event=obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(
        description="Delete selected events (those never sent to an endpoint)",
        permissions=["delete"],
    )
    def delete_selected(self, request, queryset):
        kept = list(selectors.events_with_deliveries(queryset).order_by("created_at"))
        if kept:  # said on the confirmation page, or on the list when none is left
            each = "it has" if len(kept) == 1 else "each has"
            self.message_user(
                request,
                f"Not deleted: {objects_named(kept, 'event', lambda event: str(event.id))}: "
                f"sent to an endpoint, {each} a delivery log, which is kept until the scheduled "
                f"purge takes it with its event (after {RETENTION.days} days).",
                messages.WARNING,
            )
        deletable = selectors.events_without_deliveries(queryset)
        if not deletable.exists():
            return None
        return delete_selected(self, request, deletable)

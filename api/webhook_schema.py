"""The webhooks in the OpenAPI document (OpenAPI 3.1 `webhooks`): for every event type, the
body the service POSTs (`webhooks.events.event_body`) and the headers that sign it
(`webhooks.signing`). See webhooks/README.md for how to verify a request.

These serializers only describe; nothing validates against them.
"""

from drf_spectacular.plumbing import process_webhooks
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from provisioning.models import OrphanKind
from rollouts.models import RolloutStatus
from tenants.models import TenantStatus
from webhooks import signing
from webhooks.models import EventType

TENANT_EVENT_TYPES = [
    EventType.TENANT_ACTIVE,
    EventType.TENANT_FAILED,
    EventType.TENANT_DEGRADED,
    EventType.TENANT_RECOVERED,
    EventType.TENANT_DEPROVISIONED,
]


class WebhookTenantOutput(serializers.Serializer):
    external_id = serializers.CharField(help_text="The host app's id of the tenant.")
    incarnation = serializers.IntegerField(
        allow_null=True,
        help_text="Which incarnation of the tenant the event is about: a tenant deprovisioned "
        "and registered again under the same external_id is a new incarnation (the tenant's "
        "`incarnation` in the API is its current one), so an event of an earlier one that "
        "arrives late, or is replayed, is not the current one's. Null only for an event "
        "recorded before events kept it, whose tenant was deleted since.",
    )


class _EventOutput(serializers.Serializer):
    id = serializers.UUIDField(
        help_text="The event's id, also in Webhook-Id: the same on every retry and replay; "
        "dedupe on it."
    )
    created_at = serializers.DateTimeField(
        help_text="When it happened. Events may arrive out of order: order them by this."
    )
    tenant = WebhookTenantOutput(help_text="The tenant the event is about.")


class TenantStatusEventData(serializers.Serializer):
    status = serializers.ChoiceField(choices=TenantStatus.choices)
    previous_status = serializers.ChoiceField(choices=TenantStatus.choices)
    reason = serializers.CharField(
        allow_null=True, help_text="Why, when the status is a failure or a degradation."
    )
    changed_at = serializers.DateTimeField()


class TenantStatusEvent(_EventOutput):
    """A tenant's status changed."""

    type = serializers.ChoiceField(choices=TENANT_EVENT_TYPES)
    data = TenantStatusEventData()


class ConnectionFailedEventData(serializers.Serializer):
    slot = serializers.CharField(help_text="The connection slot of the tenant's template.")
    connection_id = serializers.CharField(help_text="The connection's id in integrator.io.")
    error = serializers.CharField(allow_null=True, help_text="What its test answered.")
    checked_at = serializers.DateTimeField()
    reconnect_url = serializers.CharField(
        allow_null=True,
        help_text=(
            "A fresh connect link for this slot, made by the check: send it to the customer, "
            "who reconnects there (an OAuth slot: consents again). Absolute when "
            "SERVICE_PUBLIC_URL is set, a path otherwise. Null if the tenant no longer takes "
            "credentials."
        ),
    )
    reconnect_link_id = serializers.UUIDField(
        allow_null=True,
        help_text=(
            "The link's id, for `GET` or `DELETE /api/v1/tenants/{external_id}/connect-links/{id}`."
        ),
    )
    reconnect_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the link stops opening (24 hours after the check)."
    )


class ConnectionFailedEvent(_EventOutput):
    """A check of the tenant's connections found one not working (once until it works
    again)."""

    type = serializers.ChoiceField(choices=[EventType.CONNECTION_FAILED])
    data = ConnectionFailedEventData()


class RunFailedEventData(serializers.Serializer):
    run_id = serializers.CharField(
        help_text="The run's id, as in `GET /api/v1/tenants/{external_id}/runs`."
    )
    flow_id = serializers.CharField()
    flow_name = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    num_success = serializers.IntegerField()
    num_error = serializers.IntegerField()


class RunFailedEvent(_EventOutput):
    """One of the tenant's flow runs failed."""

    type = serializers.ChoiceField(choices=[EventType.RUN_FAILED])
    data = RunFailedEventData()


class OrphanFoundEventData(serializers.Serializer):
    orphan_id = serializers.UUIDField(help_text="As in `GET /api/v1/orphans/{orphan_id}`.")
    account = serializers.CharField(
        help_text="The key of the integrator.io account it is in "
        "(`GET /api/v1/integrator/accounts`)."
    )
    kind = serializers.ChoiceField(choices=OrphanKind.choices)
    remote_id = serializers.CharField(help_text="The integration's or connection's id.")
    name = serializers.CharField(help_text="Its name in integrator.io.")
    reason = serializers.CharField()
    tenant = serializers.CharField(
        allow_null=True, help_text="The external_id of the tenant its mark names, if it exists."
    )
    incarnation = serializers.IntegerField(
        allow_null=True,
        help_text="Which incarnation of that tenant its mark names (a deprovisioned one's, or "
        "the current one's), or null with `tenant`.",
    )


class OrphanFoundEvent(_EventOutput):
    """The orphan scan found something this deployment made in integrator.io that no tenant
    owns (once per object)."""

    type = serializers.ChoiceField(choices=[EventType.ORPHAN_FOUND])
    tenant = WebhookTenantOutput(
        allow_null=True, help_text="Always null: the event is about the deployment."
    )
    data = OrphanFoundEventData()


class IntegratorAccountData(serializers.Serializer):
    key = serializers.CharField(help_text="As in `GET /api/v1/integrator/accounts`.")
    name = serializers.CharField()
    region = serializers.CharField(help_text="`us` or `eu`.")


class IntegratorAvailabilityEventData(serializers.Serializer):
    episode = serializers.CharField(
        help_text="The outage's id (when it began, in ms): the unavailable and the recovered "
        "event of one outage carry the same."
    )
    at = serializers.DateTimeField(help_text="When the circuit breaker opened, or closed.")
    failures = serializers.IntegerField(
        help_text="Consecutive failed calls that opened it (on `integrator.unavailable`)."
    )
    account = IntegratorAccountData(
        help_text="The integrator.io account whose breaker it is (never its token): the "
        "tenants on it wait; those on other accounts do not."
    )


class IntegratorAvailabilityEvent(_EventOutput):
    """An integrator.io account became unavailable to this deployment (its circuit breaker
    opened: its calls now fail at once, with one probe call per interval), or recovered (a
    probe succeeded). Once per outage episode of each account each."""

    type = serializers.ChoiceField(
        choices=[EventType.INTEGRATOR_UNAVAILABLE, EventType.INTEGRATOR_RECOVERED]
    )
    tenant = WebhookTenantOutput(
        allow_null=True, help_text="Always null: the event is about the deployment."
    )
    data = IntegratorAvailabilityEventData()


class DriftChangeData(serializers.Serializer):
    change = serializers.CharField(help_text="AddFlow, UpdateStep, UpdateFlow, ...")
    reason = serializers.CharField(help_text="What differs, in plain words.")


class TenantDriftedEventData(serializers.Serializer):
    version = serializers.CharField(help_text="The version the integration is compared with.")
    found_at = serializers.DateTimeField()
    changes = DriftChangeData(many=True, help_text="Details: GET /api/v1/tenants/{id}/drift.")


class TenantDriftedEvent(_EventOutput):
    """The drift check found the tenant's integration changed in integrator.io (once per
    episode)."""

    type = serializers.ChoiceField(choices=[EventType.TENANT_DRIFTED])
    data = TenantDriftedEventData()


class TenantUpgradedEventData(serializers.Serializer):
    from_version = serializers.CharField(help_text="The version its integration was on.")
    to_version = serializers.CharField(help_text="The version its integration is on now.")
    job = serializers.UUIDField(help_text="The upgrade job, as in `GET /api/v1/jobs/{id}`.")
    rollout_id = serializers.UUIDField(
        allow_null=True,
        help_text="The rollout that moved it (forward, or back on a rollback); null when the "
        "tenant's own upgrade did (`POST /api/v1/tenants/{external_id}/upgrade`).",
    )


class TenantUpgradedEvent(_EventOutput):
    """A rollout, or the tenant's own upgrade, moved the tenant's integration to another
    version of its template."""

    type = serializers.ChoiceField(choices=[EventType.TENANT_UPGRADED])
    data = TenantUpgradedEventData()


class RolloutEventData(serializers.Serializer):
    rollout_id = serializers.UUIDField(help_text="As in `GET /api/v1/rollouts/{rollout_id}`.")
    template = serializers.CharField(help_text="The template key.")
    to_version = serializers.CharField(help_text="The version being rolled out.")
    status = serializers.ChoiceField(choices=RolloutStatus.choices)
    wave = serializers.IntegerField(help_text="The last wave queued (0 before the first).")
    waves = serializers.IntegerField(help_text="How many waves the rollout has.")
    tenants = serializers.JSONField(
        required=False,
        help_text="rollout.started: how many tenants it moves; rollout.completed, "
        "rollout.aborted, rollout.rolled_back: tenant counts by state.",
    )
    strategy = serializers.CharField(
        required=False, help_text="rollout.started: canary or percent."
    )
    reason = serializers.CharField(required=False, help_text="rollout.halted: why it halted.")
    failure_rate = serializers.FloatField(
        required=False, help_text="rollout.halted: the wave's failed / finished upgrades."
    )


class RolloutEvent(_EventOutput):
    """A rollout started, halted, completed, was aborted or rolled back (about the
    deployment: no tenant)."""

    type = serializers.ChoiceField(
        choices=[
            EventType.ROLLOUT_STARTED,
            EventType.ROLLOUT_HALTED,
            EventType.ROLLOUT_COMPLETED,
            EventType.ROLLOUT_ABORTED,
            EventType.ROLLOUT_ROLLED_BACK,
        ]
    )
    tenant = WebhookTenantOutput(allow_null=True, help_text="Always null: about a rollout.")
    data = RolloutEventData()


class PingEventData(serializers.Serializer):
    endpoint_id = serializers.UUIDField(
        help_text="The endpoint pinged, as in `GET /api/v1/webhooks/endpoints/{endpoint_id}`."
    )


class PingEvent(_EventOutput):
    """A test event, sent on request to one endpoint."""

    type = serializers.ChoiceField(choices=[EventType.PING])
    tenant = WebhookTenantOutput(allow_null=True, help_text="Always null: a test event.")
    data = PingEventData()


_EVENTS = {
    EventType.TENANT_ACTIVE: (
        TenantStatusEvent,
        "The tenant's integration is live: provisioning finished.",
    ),
    EventType.TENANT_FAILED: (TenantStatusEvent, "Provisioning or deprovisioning failed."),
    EventType.TENANT_DEGRADED: (
        TenantStatusEvent,
        "A flow keeps failing, a connection went offline, or a repair failed; `reason` says which.",
    ),
    EventType.TENANT_RECOVERED: (TenantStatusEvent, "A degraded tenant is healthy again."),
    EventType.TENANT_DEPROVISIONED: (
        TenantStatusEvent,
        "The tenant's integration and its connections are gone.",
    ),
    EventType.CONNECTION_FAILED: (
        ConnectionFailedEvent,
        "A check of the tenant's connections found one not working: the periodic check, or "
        "one on request (`POST /api/v1/tenants/{external_id}/check-connections`, the "
        "integration page's Check again). Sent once each time the connection goes from "
        "working to failed, not at every check that finds it still failing.",
    ),
    EventType.RUN_FAILED: (RunFailedEvent, "One of the tenant's flow runs failed."),
    EventType.ORPHAN_FOUND: (
        OrphanFoundEvent,
        "The orphan scan found something this deployment made in integrator.io that no "
        "tenant owns.",
    ),
    EventType.TENANT_DRIFTED: (
        TenantDriftedEvent,
        "The tenant's integration no longer matches its template version and settings "
        "(changed or deleted in integrator.io); sent once per episode.",
    ),
    EventType.TENANT_UPGRADED: (
        TenantUpgradedEvent,
        "A rollout moved the tenant's integration to another version (or back, on a "
        "rollback), or the tenant's own upgrade (`POST /api/v1/tenants/{external_id}/upgrade`) "
        "did.",
    ),
    EventType.ROLLOUT_STARTED: (RolloutEvent, "A rollout started: its first wave is queued."),
    EventType.ROLLOUT_HALTED: (
        RolloutEvent,
        "A wave failed more often than the rollout allows: no further wave is queued until it "
        "is resumed, aborted or rolled back.",
    ),
    EventType.ROLLOUT_COMPLETED: (RolloutEvent, "Every wave of a rollout has finished."),
    EventType.ROLLOUT_ABORTED: (
        RolloutEvent,
        "A rollout was aborted: no further wave is queued; upgrades already queued still "
        "finish, and the tenants they moved stay moved (roll it back to undo them).",
    ),
    EventType.ROLLOUT_ROLLED_BACK: (
        RolloutEvent,
        "A rollback has ended: every tenant the rollout moved is back on the version it came "
        "from, or left where it is with why (`GET /api/v1/rollouts/{rollout_id}/tenants`, "
        "`rollback_error`).",
    ),
    EventType.INTEGRATOR_UNAVAILABLE: (
        IntegratorAvailabilityEvent,
        "integrator.io has been failing (timeouts, 5xx): the service stopped calling it and "
        "probes it once per INTEGRATOR_BREAKER_PROBE_SECONDS; provisioning waits, API calls "
        "that need it answer 503. Once per outage.",
    ),
    EventType.INTEGRATOR_RECOVERED: (
        IntegratorAvailabilityEvent,
        "A probe call succeeded: the service calls integrator.io again. Once per outage, with "
        "the same `episode` as its `integrator.unavailable`.",
    ),
    EventType.PING: (
        PingEvent,
        "A test event, sent only when asked for (`POST /api/v1/webhooks/endpoints/"
        "{endpoint_id}/ping`, or the admin's *Send a test event*), to that endpoint alone, "
        "whatever event types it takes. Nothing happened: answer 2xx once the signature "
        "verifies.",
    ),
}

_DELIVERY = (
    "Sent to every active endpoint subscribed to it, at least once. Answer 2xx quickly; "
    "5xx, 429 and timeouts are retried with backoff, other answers fail the delivery. Verify "
    "`Webhook-Signature` before trusting the body."
)
_PING_DELIVERY = (
    "Sent to the endpoint pinged only, at least once, signed and retried as every event is. "
    "Verify `Webhook-Signature` before answering 2xx."
)

WEBHOOKS = [
    OpenApiWebhook(
        name=event_type.value,
        decorator=extend_schema(
            summary=event_type.label,
            description=(
                f"{description}\n\n{_PING_DELIVERY if event_type == EventType.PING else _DELIVERY}"
            ),
            request=event,
            responses={
                "2XX": OpenApiResponse(description="Received."),
                "default": OpenApiResponse(
                    description="Not received: retried for 5xx and 429, failed otherwise."
                ),
            },
        ),
    )
    for event_type, (event, description) in _EVENTS.items()
]

SIGNATURE_HEADERS = [
    {
        "name": signing.ID_HEADER,
        "in": "header",
        "required": True,
        "description": "The event's id: the same on every retry and replay. Dedupe on it.",
        "schema": {"type": "string", "format": "uuid"},
    },
    {
        "name": signing.TIMESTAMP_HEADER,
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in Unix seconds. Refuse a request more "
        "than 5 minutes off.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": signing.SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "`t=<timestamp>,v1=<hex>`: `v1` is the hex HMAC-SHA256 of "
        '`"<t>." + raw body`, keyed with the endpoint\'s secret. Recompute it over the raw '
        "body and compare in constant time. For a grace window after the secret is rotated "
        "the header carries more than one `v1` (`t=...,v1=<new secret's>,v1=<old secret's>`): "
        "accept the request when any of them matches.",
        "schema": {"type": "string", "pattern": "^t=[0-9]+(,v1=[0-9a-f]{64})+$"},
    },
]


def add_webhooks(result, generator, request, public):
    """Postprocessing hook: the document's `webhooks`, each request with its signature
    headers. Added here rather than through SPECTACULAR_SETTINGS["WEBHOOKS"], whose components
    drf-spectacular builds before it reads the webhooks (they would be missing)."""
    result["webhooks"] = process_webhooks(WEBHOOKS, generator.registry)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in generator.registry.build({}).get("schemas", {}).items():
        schemas.setdefault(name, schema)
    for path_item in result["webhooks"].values():
        for operation in path_item.values():
            operation["parameters"] = [dict(header) for header in SIGNATURE_HEADERS]
    return result

"""The host app's API for its webhook endpoints and their delivery log (/api/v1/webhooks).

An endpoint's secret appears in exactly two responses: the one that creates the endpoint and
the one that rotates its secret. No other response, log line or admin page shows it.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from api.pagination import NewestFirstCursorPagination
from api.query import QueryDateTimeField, query_filters
from api.scopes import Scope
from api.serializers import HttpUrlField, InputSerializer, UniqueListField
from api.views import ApiView
from webhooks import selectors, services
from webhooks.events import events_data
from webhooks.models import SUBSCRIBABLE_EVENT_TYPES, DeliveryStatus, EventType

ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", str, OpenApiParameter.PATH, description="The endpoint's id (a UUID)."
)
DELIVERY_ID = OpenApiParameter(
    "delivery_id", str, OpenApiParameter.PATH, description="The delivery's id (a UUID)."
)
EVENT_ID = OpenApiParameter(
    "event_id",
    str,
    OpenApiParameter.PATH,
    description="The event's id (a UUID), as its requests' `Webhook-Id` header carries it.",
)
_url = HttpUrlField(help_text="Where events are POSTed. Use https outside development.")
_is_active = serializers.BooleanField(
    required=False,
    help_text="false disables the endpoint; this is no pause: its pending deliveries are "
    "canceled (replay them once it is enabled again), and events recorded while it is "
    "disabled are not sent to it later.",
)
# An unknown value is answered with the values taken, as the job and run lists' filters do.
_NOT_AN_EVENT_TYPE = {"invalid_choice": f"Not an event type; one of {', '.join(EventType.values)}."}
# `ping` is sent only on request (POST .../ping), to the endpoint pinged whatever it subscribes to.
_NOT_A_SUBSCRIBABLE_TYPE = {
    "invalid_choice": "Not an event type; one of "
    f"{', '.join(value for value, _ in SUBSCRIBABLE_EVENT_TYPES)}."
}
_event_types = UniqueListField(
    child=serializers.ChoiceField(
        choices=SUBSCRIBABLE_EVENT_TYPES, error_messages=_NOT_A_SUBSCRIBABLE_TYPE
    ),
    max_length=len(SUBSCRIBABLE_EVENT_TYPES),
    required=False,
    help_text="Event types to receive; empty or left out: all of them. A `ping` "
    "(POST /api/v1/webhooks/endpoints/{endpoint_id}/ping) arrives whatever they are.",
)


def _endpoint_location(endpoint_id) -> str:
    return reverse("endpoint-detail", kwargs={"endpoint_id": str(endpoint_id)})


def _delivery_location(delivery_id) -> str:
    return reverse("delivery-detail", kwargs={"delivery_id": str(delivery_id)})


class WebhookEndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = HttpUrlField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    secret_rotated_at = serializers.DateTimeField()
    previous_secret_expires_at = serializers.SerializerMethodField(
        help_text="Until when deliveries are also signed with the secret before the last "
        "rotation (a second v1 in Webhook-Signature); null when they are not (never the secret)."
    )
    url_problem = serializers.SerializerMethodField(
        help_text="null, or why `url` fails today's URL check (it was stored before the check "
        "was this strict): every delivery to it fails at once until the URL is changed."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url_problem(self, endpoint) -> str | None:
        return selectors.endpoint_url_problem(endpoint=endpoint)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_previous_secret_expires_at(self, endpoint) -> str | None:
        valid_until = endpoint.previous_secret_valid_until(timezone.now())
        if valid_until is None:
            return None
        return serializers.DateTimeField().to_representation(valid_until)


class WebhookEndpointWithSecretOutput(WebhookEndpointOutput):
    secret = serializers.CharField(
        help_text="Shown in this response only: store it now. Verify each request's "
        "Webhook-Signature with it (HMAC-SHA256 over `<timestamp>.<body>`)."
    )


def _with_secret(created: services.EndpointWithSecret) -> dict:
    return {**WebhookEndpointOutput(created.endpoint).data, "secret": created.secret}


class WebhookEventOutput(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=EventType.choices, source="event_type")
    tenant = serializers.SerializerMethodField(
        help_text="The tenant's external_id; null for an event about the deployment (as in "
        "the body sent)."
    )
    incarnation = serializers.IntegerField(
        source="tenant_incarnation",
        allow_null=True,
        help_text="Which incarnation of that tenant (as in the body sent); null for an event "
        "about the deployment.",
    )
    data = serializers.DictField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_tenant(self, event) -> str | None:
        return event.tenant_external_id or None


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint = serializers.UUIDField(source="endpoint_id")
    event = WebhookEventOutput()
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        help_text="`pending`: not delivered yet, an attempt is due at `next_attempt_at`. "
        "`delivered`: the endpoint answered 2xx. `failed`: it answered a 3xx or 4xx (other "
        "than 429), or its URL cannot be called: sent again, the same body cannot help; a "
        "ping whose retries were spent ends here too. `dead`: every attempt allowed met a 5xx, "
        "a 429 or a timeout (dead-lettered). `canceled`: the endpoint was disabled before it "
        "went out. Any can be replayed (a `pending` one is sent at once).",
    )
    attempts = serializers.IntegerField(help_text="Attempts made so far.")
    next_attempt_at = serializers.SerializerMethodField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(
        allow_null=True, help_text="The endpoint's answer to the last attempt; null without one."
    )
    last_error = serializers.CharField(
        help_text="Why the last attempt did not deliver; empty when none failed."
    )
    delivered_at = serializers.DateTimeField(allow_null=True)
    replay_of = serializers.UUIDField(
        source="replay_of_id",
        allow_null=True,
        help_text="The delivery this one replays (the same event); null for a first delivery.",
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(
        serializers.DateTimeField(
            allow_null=True,
            help_text="When the next attempt is due, while `pending`; null otherwise.",
        )
    )
    def get_next_attempt_at(self, delivery) -> str | None:
        due = delivery.upcoming_attempt_at()
        return None if due is None else serializers.DateTimeField().to_representation(due)


class WebhookAttemptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class WebhookDeliveryDetailOutput(WebhookDeliveryOutput):
    log = WebhookAttemptOutput(many=True)


class WebhookDeliveryCountsOutput(serializers.Serializer):
    total = serializers.IntegerField(
        help_text="Deliveries of the event: one per endpoint active (and subscribed) when it "
        "was recorded, and one per replay; 0 when no endpoint was. A deleted endpoint's are "
        "gone with it."
    )
    pending = serializers.IntegerField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    dead = serializers.IntegerField()
    canceled = serializers.IntegerField()


class WebhookOutboxEventOutput(WebhookEventOutput):
    data = serializers.SerializerMethodField(
        help_text="The event's `data`, exactly as the body sent to endpoints carries it (a "
        "`connection.failed`'s `reconnect_url` included)."
    )
    delivery_counts = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DictField())
    def get_data(self, event) -> dict:
        return self.context["data"][event.id]

    @extend_schema_field(WebhookDeliveryCountsOutput)
    def get_delivery_counts(self, event) -> dict:
        return self.context["delivery_counts"][event.id]


class WebhookEventDeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint = serializers.UUIDField(source="endpoint_id")
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        help_text="As a delivery's (`GET /api/v1/webhooks/deliveries/{delivery_id}` has its "
        "attempts).",
    )
    attempts = serializers.IntegerField(help_text="Attempts made so far.")
    replay_of = serializers.UUIDField(
        source="replay_of_id",
        allow_null=True,
        help_text="The delivery this one replays; null for a first delivery.",
    )
    created_at = serializers.DateTimeField()


class WebhookOutboxEventDetailOutput(WebhookOutboxEventOutput):
    deliveries = WebhookEventDeliveryOutput(
        many=True, help_text="Every delivery of the event, newest first, replays included."
    )


def _outbox_context(events) -> dict:
    return {
        "data": events_data(events=events),
        "delivery_counts": selectors.event_delivery_counts(events=events),
    }


_OUTBOX_EVENT_EXAMPLE = {
    "id": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
    "type": "run.failed",
    "tenant": "acme",
    "incarnation": 1,
    "data": {
        "run_id": "65a1f0c2e4b0a1b2c3d4e5f6",
        "flow_id": "65a1e9d8e4b0a1b2c3d4e5f0",
        "flow_name": "Orders to ERP",
        "started_at": "2026-12-01T09:58:02.000Z",
        "ended_at": "2026-12-01T09:58:41.000Z",
        "num_success": 118,
        "num_error": 3,
    },
    "created_at": "2026-12-01T09:58:44.512Z",
    "delivery_counts": {
        "total": 1,
        "pending": 0,
        "delivered": 0,
        "failed": 0,
        "dead": 1,
        "canceled": 0,
    },
}


class EndpointCollectionApi(ApiView):
    required_scopes = {"get": Scope.WEBHOOKS_MANAGE, "post": Scope.WEBHOOKS_MANAGE}
    pagination_class = NewestFirstCursorPagination

    class WebhookEndpointCreateInput(InputSerializer):
        url = _url
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        event_types = _event_types
        is_active = _is_active

    @extend_schema(
        operation_id="webhook_endpoints_list",
        summary="List webhook endpoints",
        responses=WebhookEndpointOutput(many=True),
        tags=["webhooks"],
    )
    def get(self, request):
        """Webhook endpoints, newest first (secrets are never listed)."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.endpoint_list(), request, view=self)
        return paginator.get_paginated_response(WebhookEndpointOutput(page, many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        summary="Add a webhook endpoint",
        request=WebhookEndpointCreateInput,
        responses={201: WebhookEndpointWithSecretOutput},
        examples=[
            OpenApiExample(
                "Failures only",
                value={
                    "url": "https://app.example.com/hooks/integrations",
                    "event_types": ["tenant.failed", "tenant.degraded", "run.failed"],
                },
                request_only=True,
            )
        ],
        tags=["webhooks"],
    )
    def post(self, request):
        """Add an endpoint. The response carries its signing secret, once."""
        data = self.WebhookEndpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.endpoint_create(**data.validated_data)
        return Response(
            _with_secret(created),
            status=status.HTTP_201_CREATED,
            headers={"Location": _endpoint_location(created.endpoint.pk)},
        )


class EndpointApi(ApiView):
    required_scopes = {
        "get": Scope.WEBHOOKS_MANAGE,
        "patch": Scope.WEBHOOKS_MANAGE,
        "delete": Scope.WEBHOOKS_MANAGE,
    }

    class WebhookEndpointUpdateInput(InputSerializer):
        url = HttpUrlField(required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        event_types = _event_types
        is_active = _is_active

    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        summary="Retrieve a webhook endpoint",
        parameters=[ENDPOINT_ID],
        responses=WebhookEndpointOutput,
        tags=["webhooks"],
    )
    def get(self, request, endpoint_id: str):
        """One webhook endpoint (its secret is never shown again)."""
        return Response(WebhookEndpointOutput(selectors.endpoint_get(endpoint_id=endpoint_id)).data)

    @extend_schema(
        operation_id="webhook_endpoints_partial_update",
        summary="Update a webhook endpoint",
        parameters=[ENDPOINT_ID],
        request=WebhookEndpointUpdateInput,
        responses=WebhookEndpointOutput,
        tags=["webhooks"],
    )
    def patch(self, request, endpoint_id: str):
        """Change the URL, description or event types, or disable it (`is_active: false`).
        Disabling is no pause: pending deliveries to it are canceled (replay them once it is
        enabled again), and events recorded while it is disabled are not sent to it later."""
        endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
        data = self.WebhookEndpointUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        summary="Delete a webhook endpoint",
        parameters=[ENDPOINT_ID],
        request=None,
        responses={204: None},
        tags=["webhooks"],
    )
    def delete(self, request, endpoint_id: str):
        """Delete the endpoint and its delivery log: its pending deliveries (waiting for a
        retry) are never sent. To move the receiver, change its `url` instead (PATCH): they
        go to the new address at their next attempt."""
        services.endpoint_delete(endpoint=selectors.endpoint_get(endpoint_id=endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointSecretRotateApi(ApiView):
    required_scopes = {"post": Scope.WEBHOOKS_MANAGE}

    class WebhookSecretRotateInput(InputSerializer):
        previous_secret_expires_in = serializers.IntegerField(
            required=False,
            min_value=0,
            max_value=int(services.PREVIOUS_SECRET_MAX_EXPIRES_IN.total_seconds()),
            help_text="Seconds the old secret keeps signing deliveries beside the new one "
            "(0: it stops at once, e.g. when it leaked). Left out: the deployment's "
            "WEBHOOK_SECRET_ROTATION_GRACE_SECONDS (24 hours by default).",
        )

    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="Rotate an endpoint's signing secret",
        parameters=[ENDPOINT_ID],
        request=WebhookSecretRotateInput,
        responses={200: WebhookEndpointWithSecretOutput},
        examples=[
            OpenApiExample(
                "Old secret valid one more hour",
                value={"previous_secret_expires_in": 3600},
                request_only=True,
            )
        ],
        tags=["webhooks"],
    )
    def post(self, request, endpoint_id: str):
        """Replace the signing secret; the response carries the new one, once. Attempts from
        now on are signed with it and, until `previous_secret_expires_at` (24 hours unless
        `previous_secret_expires_in` says otherwise), with the old one too: Webhook-Signature
        then holds two v1 values, the new secret's first, and a receiver accepts the request
        when either matches. Deploy the new secret within that window. A rotation within the
        window drops the secret before the old one. The body is optional."""
        endpoint = selectors.endpoint_get(endpoint_id=endpoint_id)
        data = self.WebhookSecretRotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        seconds = data.validated_data.get("previous_secret_expires_in")
        rotated = services.endpoint_secret_rotate(
            endpoint=endpoint,
            previous_secret_expires_in=None if seconds is None else timedelta(seconds=seconds),
        )
        return Response(_with_secret(rotated))


class EndpointPingApi(ApiView):
    required_scopes = {"post": Scope.WEBHOOKS_MANAGE}
    body_handlers = frozenset()  # an action: the path says it all

    @extend_schema(
        operation_id="webhook_endpoints_ping",
        summary="Send a test event (ping) to an endpoint",
        parameters=[ENDPOINT_ID],
        request=None,
        responses={
            202: WebhookDeliveryOutput,
            409: OpenApiResponse(
                description="`webhook_endpoint_disabled`: the endpoint is disabled; enable it "
                "(`is_active: true`) first."
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request, endpoint_id: str):
        """Record a `ping` event for this endpoint alone (whatever event types it takes; no
        other endpoint gets it, and it is about no tenant) and send it as every event is sent:
        signed with the endpoint's secret, retried on 5xx, 429 and timeouts, in the delivery
        log. The answer is its delivery: poll `GET /api/v1/webhooks/deliveries/{id}` to see
        what the endpoint answered (`status`, `last_status_code`, `last_error`, each attempt).
        A disabled endpoint is refused (409), as a replay to it is: nothing is sent to it."""
        delivery = services.endpoint_ping(endpoint=selectors.endpoint_get(endpoint_id=endpoint_id))
        delivery = selectors.delivery_get(delivery_id=str(delivery.id))
        return Response(
            WebhookDeliveryOutput(delivery).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": _delivery_location(delivery.id)},
        )


class DeliveryListApi(ApiView):
    required_scopes = {"get": Scope.WEBHOOKS_MANAGE}
    pagination_class = NewestFirstCursorPagination

    class WebhookDeliveryFilters(serializers.Serializer):
        endpoint = serializers.UUIDField(required=False)
        status = serializers.ChoiceField(
            choices=DeliveryStatus.choices,
            required=False,
            error_messages={
                "invalid_choice": "Not a delivery status; one of "
                f"{', '.join(DeliveryStatus.values)}."
            },
        )
        event_type = serializers.ChoiceField(
            choices=EventType.choices, required=False, error_messages=_NOT_AN_EVENT_TYPE
        )
        tenant = serializers.CharField(
            max_length=128, required=False, help_text="A tenant's external_id."
        )
        event = serializers.UUIDField(
            required=False,
            help_text="An event's id, as its requests' `Webhook-Id` header carries it: every "
            "delivery of that event (to each endpoint, retries' log inside, replays included).",
        )

    query_parameters = {"get": WebhookDeliveryFilters}

    @extend_schema(
        operation_id="webhook_deliveries_list",
        summary="List webhook deliveries",
        parameters=[WebhookDeliveryFilters],
        responses=WebhookDeliveryOutput(many=True),
        tags=["webhooks"],
    )
    def get(self, request):
        """The delivery log, newest first."""
        values = query_filters(request, self.WebhookDeliveryFilters)
        deliveries = selectors.delivery_list(
            endpoint_id=values.get("endpoint"),
            status=values.get("status"),
            event_type=values.get("event_type"),
            tenant_external_id=values.get("tenant"),
            event_id=values.get("event"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(WebhookDeliveryOutput(page, many=True).data)


class DeliveryApi(ApiView):
    required_scopes = {"get": Scope.WEBHOOKS_MANAGE}

    @extend_schema(
        operation_id="webhook_deliveries_retrieve",
        summary="Retrieve a webhook delivery",
        parameters=[DELIVERY_ID],
        responses=WebhookDeliveryDetailOutput,
        tags=["webhooks"],
    )
    def get(self, request, delivery_id: str):
        """One delivery with every attempt: status code, duration, error."""
        delivery = selectors.delivery_get(delivery_id=delivery_id)
        return Response(WebhookDeliveryDetailOutput(delivery).data)


class DeliveryReplayApi(ApiView):
    required_scopes = {"post": Scope.WEBHOOKS_MANAGE}
    body_handlers = frozenset()  # an action: the path says it all

    @extend_schema(
        operation_id="webhook_deliveries_replay",
        summary="Replay a webhook delivery",
        parameters=[DELIVERY_ID],
        request=None,
        responses={
            202: WebhookDeliveryOutput,
            409: OpenApiResponse(
                description="`webhook_endpoint_disabled`: the delivery's endpoint is disabled; "
                "enable it (`is_active: true`) first."
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request, delivery_id: str):
        """Send the delivery's event again, as a new delivery with the same event id; a
        pending delivery (waiting for its next retry) is sent now instead, and answered."""
        replay = services.delivery_replay(delivery=selectors.delivery_get(delivery_id=delivery_id))
        replay = selectors.delivery_get(delivery_id=str(replay.id))
        return Response(
            WebhookDeliveryOutput(replay).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": _delivery_location(replay.id)},
        )


class EventListApi(ApiView):
    required_scopes = {"get": Scope.WEBHOOKS_MANAGE}
    pagination_class = NewestFirstCursorPagination

    class WebhookEventFilters(serializers.Serializer):
        event_type = serializers.ChoiceField(
            choices=EventType.choices, required=False, error_messages=_NOT_AN_EVENT_TYPE
        )
        tenant = serializers.CharField(
            max_length=128,
            required=False,
            help_text="A tenant's external_id: its events, those of its earlier incarnations "
            "included (each says its `incarnation`).",
        )
        since = QueryDateTimeField(
            required=False, help_text="Events recorded at or after this time (ISO 8601)."
        )
        until = QueryDateTimeField(required=False, help_text="Events recorded before this time.")

        def validate(self, attrs):
            since, until = attrs.get("since"), attrs.get("until")
            # Equal bounds are an empty range, not an error; reversed ones are a mistake.
            if since is not None and until is not None and since > until:
                raise serializers.ValidationError({"until": ["Must not be earlier than `since`."]})
            return attrs

    query_parameters = {"get": WebhookEventFilters}

    @extend_schema(
        operation_id="webhook_events_list",
        summary="List webhook events",
        parameters=[WebhookEventFilters],
        responses=WebhookOutboxEventOutput(many=True),
        examples=[
            OpenApiExample(
                "A run that failed, its delivery dead-lettered",
                value=_OUTBOX_EVENT_EXAMPLE,
                response_only=True,
            )
        ],
        tags=["webhooks"],
    )
    def get(self, request):
        """Every event recorded (the outbox), newest first, whether or not an endpoint
        received it: events are recorded whatever the endpoints, and delivered only to those
        active when each was recorded. Catch up here after an endpoint was down (its
        deliveries dead-lettered), disabled, or before there was one: read from the newest
        back to the last event you handled (or pass `since`), and dedupe on `id` (the
        `Webhook-Id` of its requests). `data` is what the body sent carries. Kept as long as
        the delivery log (30 days)."""
        values = query_filters(request, self.WebhookEventFilters)
        events = selectors.event_list(
            event_type=values.get("event_type"),
            tenant_external_id=values.get("tenant"),
            since=values.get("since"),
            until=values.get("until"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(
            WebhookOutboxEventOutput(page, many=True, context=_outbox_context(page)).data
        )


class EventApi(ApiView):
    required_scopes = {"get": Scope.WEBHOOKS_MANAGE}

    @extend_schema(
        operation_id="webhook_events_retrieve",
        summary="Retrieve a webhook event",
        parameters=[EVENT_ID],
        responses={
            200: WebhookOutboxEventDetailOutput,
            404: OpenApiResponse(
                description="`webhook_event_not_found`: no event with this id (or it is no "
                "UUID), or it is older than the delivery log keeps."
            ),
        },
        examples=[
            OpenApiExample(
                "A run that failed, its delivery dead-lettered",
                value={
                    **_OUTBOX_EVENT_EXAMPLE,
                    "deliveries": [
                        {
                            "id": "0c9b8a7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
                            "endpoint": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b",
                            "status": "dead",
                            "attempts": 10,
                            "replay_of": None,
                            "created_at": "2026-12-01T09:58:44.520Z",
                        }
                    ],
                },
                response_only=True,
            )
        ],
        tags=["webhooks"],
    )
    def get(self, request, event_id: str):
        """One event, its `data` as the body sent carries it, and each of its deliveries'
        id and status (the delivery's own page has its attempts)."""
        event = selectors.event_get(event_id=event_id)
        return Response(
            WebhookOutboxEventDetailOutput(event, context=_outbox_context([event])).data
        )

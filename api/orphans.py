"""The host app's API for orphans: what this deployment made in integrator.io and no tenant
owns (see provisioning.orphan_scan), and deleting or adopting them."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.pagination import NewestFirstCursorPagination
from api.query import query_filters
from api.schema import INTEGRATOR_RESPONSES
from api.scopes import Scope
from api.serializers import InputSerializer
from api.views import ApiView
from provisioning import selectors, services
from provisioning.models import JobOrigin, OrphanKind, OrphanStatus
from tenants.errors import TenantNotFound
from tenants.selectors import tenant_get

ORPHAN_ID = OpenApiParameter(
    "orphan_id", str, OpenApiParameter.PATH, description="The orphan's id (a UUID)."
)


class OrphanOutput(serializers.Serializer):
    id = serializers.UUIDField()
    account = serializers.CharField(
        source="account.key",
        help_text="The key of the integrator.io account it is in (see GET "
        "/api/v1/integrator/accounts); deleting or adopting it acts there.",
    )
    kind = serializers.ChoiceField(choices=OrphanKind.choices)
    remote_id = serializers.CharField(help_text="The integration's or connection's id.")
    name = serializers.CharField(help_text="Its name in integrator.io.")
    mark = serializers.CharField(help_text="The tag or externalId that makes it this deployment's.")
    tenant = serializers.CharField(
        source="tenant.external_id",
        # allow_null answers null when there is no tenant (DRF's get_attribute), without a
        # default, which would make the document say the field may be left out.
        allow_null=True,
        help_text="The tenant its mark names (or it was adopted into), if that tenant exists.",
    )
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=OrphanStatus.choices)
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()


class OrphanPagination(NewestFirstCursorPagination):
    ordering = ("-first_seen_at", "-id")


class OrphanListApi(ApiView):
    required_scopes = {"get": Scope.OPS_READ}
    pagination_class = OrphanPagination

    class OrphanFilters(serializers.Serializer):
        # An unknown value is answered with the values taken, as the other lists' filters do.
        status = serializers.ChoiceField(
            choices=OrphanStatus.choices,
            required=False,
            error_messages={
                "invalid_choice": f"Not an orphan status; one of {', '.join(OrphanStatus.values)}."
            },
        )
        kind = serializers.ChoiceField(
            choices=OrphanKind.choices,
            required=False,
            error_messages={
                "invalid_choice": f"Not an orphan kind; one of {', '.join(OrphanKind.values)}."
            },
        )
        account = serializers.CharField(
            max_length=64,
            required=False,
            help_text="Only the orphans in this integrator.io account (its key).",
        )

    query_parameters = {"get": OrphanFilters}

    @extend_schema(
        operation_id="orphans_list",
        summary="List orphans",
        parameters=[OrphanFilters],
        responses=OrphanOutput(many=True),
        tags=["orphans"],
    )
    def get(self, request):
        """What this deployment made in integrator.io and no tenant owns, newest first."""
        orphans = selectors.orphan_list(**query_filters(request, self.OrphanFilters))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orphans, request, view=self)
        return paginator.get_paginated_response(OrphanOutput(page, many=True).data)


class OrphanApi(ApiView):
    required_scopes = {"get": Scope.OPS_READ}

    @extend_schema(
        operation_id="orphans_retrieve",
        summary="Retrieve an orphan",
        parameters=[ORPHAN_ID],
        responses=OrphanOutput,
        tags=["orphans"],
    )
    def get(self, request, orphan_id: str):
        """One orphan: what it is in integrator.io, why it is one, and how it was resolved."""
        return Response(OrphanOutput(selectors.orphan_get(orphan_id=orphan_id)).data)


class OrphanDeleteApi(ApiView):
    required_scopes = {"post": Scope.OPS_MANAGE}
    body_handlers = frozenset()  # an action: the path says it all

    @extend_schema(
        operation_id="orphans_delete_remotely",
        summary="Delete an orphan in integrator.io",
        parameters=[ORPHAN_ID],
        request=None,
        responses={
            200: OrphanOutput,
            409: OpenApiResponse(
                description="`orphan_not_actionable`: not an open orphan of this deployment "
                "(resolved already, or no longer carrying its mark)."
            ),
            **INTEGRATOR_RESPONSES,
        },
        tags=["orphans"],
    )
    def post(self, request, orphan_id: str):
        """Delete the object in integrator.io (an integration with its flows, exports and
        imports). It is read again first and must still be an orphan of this deployment."""
        orphan = services.orphan_remove(
            orphan=selectors.orphan_get(orphan_id=orphan_id), by=f"API key {request.user.name}"
        )
        return Response(OrphanOutput(orphan).data)


class OrphanAdoptApi(ApiView):
    required_scopes = {"post": Scope.OPS_MANAGE}

    class OrphanAdoptInput(InputSerializer):
        tenant = serializers.CharField(max_length=128, help_text="The tenant's external_id.")
        slot = serializers.CharField(
            max_length=64,
            required=False,
            help_text="For a connection: the slot it fills (default: the one its mark names).",
        )

        def validate_tenant(self, external_id):
            # Named in the body, so a bad field (400 `invalid_fields`), not a 404: the 404 of
            # this operation is its path's orphan (README, "API conventions").
            try:
                return tenant_get(external_id=external_id)
            except TenantNotFound:
                raise serializers.ValidationError("No tenant with this external_id.") from None

    @extend_schema(
        operation_id="orphans_adopt",
        summary="Adopt an orphan into a tenant",
        parameters=[ORPHAN_ID],
        request=OrphanAdoptInput,
        responses={
            200: OrphanOutput,
            409: OpenApiResponse(
                description="`orphan_not_actionable`: it cannot be adopted (not open, not "
                "carrying this deployment's mark, or the tenant has an integration already; "
                "the message says which); `tenant_deprovisioned`: the tenant is being (or has "
                "been) deprovisioned."
            ),
            **INTEGRATOR_RESPONSES,
        },
        tags=["orphans"],
    )
    def post(self, request, orphan_id: str):
        """Give the object to a tenant: it is re-marked as the tenant's and recorded on it (an
        integration, for a tenant that has none; a connection, for an empty slot), and the
        tenant's provisioning goes on from there."""
        orphan = selectors.orphan_get(orphan_id=orphan_id)
        data = self.OrphanAdoptInput(data=request.data)
        data.is_valid(raise_exception=True)
        orphan = services.orphan_adopt(
            orphan=orphan,
            tenant=data.validated_data["tenant"],
            slot_key=data.validated_data.get("slot", ""),
            by=f"API key {request.user.name}",
            requested_by=JobOrigin.API,
        )
        return Response(OrphanOutput(orphan).data)

"""The host app's API for reconcile plans: what moving a tenant's integration to its version
(or another one) would change, without changing anything (/api/v1/tenants/{id}/plan)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.query import query_filters
from api.schema import INTEGRATOR_RESPONSES
from api.scopes import Scope
from api.tenants import EXTERNAL_ID
from api.views import ApiView
from provisioning import selectors, services
from tenants.selectors import tenant_get


class PlanChangeOutput(serializers.Serializer):
    change = serializers.CharField(help_text="AddFlow, DeleteFlow, UpdateStep, UpdateFlow, ...")
    reason = serializers.CharField(help_text="Why, in plain words.")
    diff = serializers.ListField(
        child=serializers.ListField(),
        help_text="[field, before, after] for each field it changes; secrets masked.",
    )


class PlanOutput(serializers.Serializer):
    version = serializers.CharField(help_text="The version the plan moves the integration to.")
    integration_id = serializers.CharField(
        allow_null=True, help_text="Null: the tenant has no integration; a provision clones it."
    )
    changes = PlanChangeOutput(
        many=True,
        help_text="What the reconcile would change, in the order it would, round by round (a "
        "flow added is cloned with its steps as the version has them: they are not changed "
        "again). A rollout's dry run estimates the same.",
    )
    api_calls = serializers.IntegerField(
        help_text="integrator.io calls the reconcile would make: each change's writes and the "
        "four reads of each round, the last round confirming nothing is left. A lower bound: "
        "retries of failed or rate-limited calls are not counted."
    )


class TenantPlanApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

    class Filters(serializers.Serializer):
        version = serializers.CharField(
            max_length=32,
            required=False,
            help_text="Plan for this version of the tenant's template (default: its own).",
        )

    query_parameters = {"get": Filters}

    @extend_schema(
        operation_id="tenants_plan",
        summary="Preview a tenant's reconcile plan",
        parameters=[EXTERNAL_ID, Filters],
        responses={
            200: PlanOutput,
            409: OpenApiResponse(
                description="The version has no snapshot, the tenant's settings do not fit it, "
                "or the tenant is deprovisioned (`tenant_deprovisioned`)."
            ),
            # It reads integrator.io while the request waits.
            **INTEGRATOR_RESPONSES,
        },
        tags=["jobs"],
    )
    def get(self, request, external_id: str):
        """The changes a reconcile would make, in order, each with its reason and a masked
        before/after diff; an empty list when the integration already is what the version and
        the tenant's settings say (no drift). Reads integrator.io, changes nothing."""
        filters = query_filters(request, self.Filters)
        preview = services.tenant_plan_preview(
            tenant=tenant_get(external_id=external_id), version=filters.get("version")
        )
        return Response(
            PlanOutput(
                {
                    "version": preview.version.version,
                    "integration_id": preview.integration_id,
                    "changes": [change.summary() for change in preview.changes],
                    "api_calls": preview.api_calls,
                }
            ).data
        )


class DriftOutput(serializers.Serializer):
    drifted = serializers.BooleanField(help_text="The last check found differences.")
    since = serializers.DateTimeField(allow_null=True, help_text="When they were first found.")
    last_checked_at = serializers.DateTimeField(
        allow_null=True, help_text="The last periodic check; null: not checked yet."
    )
    check_error = serializers.CharField(
        allow_null=True, help_text="Why the last check could not compare, if it could not."
    )
    version = serializers.CharField(help_text="The version the integration is compared with.")
    changes = PlanChangeOutput(many=True, help_text="What differs, as the last check saw it.")
    repair_job_id = serializers.UUIDField(
        allow_null=True, help_text="The reconcile job a `repair` template asked for."
    )


class TenantDriftApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

    @extend_schema(
        operation_id="tenants_drift",
        summary="A tenant's drift",
        parameters=[EXTERNAL_ID],
        responses={
            200: DriftOutput,
            409: OpenApiResponse(
                description="The tenant is being (or has been) deprovisioned "
                "(`tenant_deprovisioned`): it has no integration to compare."
            ),
        },
        tags=["jobs"],
    )
    def get(self, request, external_id: str):
        """Whether the tenant's integration differs from what its version and settings say,
        as the periodic drift check last found (it does not read integrator.io; `GET
        .../plan` does, now). A tenant being or already deprovisioned has no integration to
        compare: 409 `tenant_deprovisioned`, as its plan is."""
        tenant = tenant_get(external_id=external_id)
        status = selectors.tenant_drift_answer(tenant=tenant)
        episode, check = status.episode, status.check
        return Response(
            DriftOutput(
                {
                    "drifted": episode is not None,
                    "since": episode.found_at if episode else None,
                    "last_checked_at": check.checked_at if check else None,
                    "check_error": (check.error or None) if check else None,
                    "version": (episode.version if episode else tenant.template_version).version,
                    "changes": episode.changes if episode else [],
                    "repair_job_id": episode.repair_job_id if episode else None,
                }
            ).data
        )

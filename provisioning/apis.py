"""The host app's API for provisioning jobs and orphans (/api/v1/).

Authentication, the error shape and `Idempotency-Key` come from `api.views.ApiView` and the
REST_FRAMEWORK settings. Each view calls one service or selector.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.pagination import NewestFirstCursorPagination
from api.query import query_filters
from api.schema import INTEGRATOR_RESPONSES
from api.serializers import InputSerializer
from api.views import ApiView
from provisioning import selectors, services
from provisioning.models import JobKind, JobOrigin, JobStatus, OrphanKind, OrphanStatus
from provisioning.serializers import JobDetailOutput, JobOutput
from tenants.apis import EXTERNAL_ID
from tenants.selectors import tenant_get

_CONFLICT = OpenApiResponse(
    description="Another job of the tenant is unfinished, or its status does not allow this."
)


class _JobRequestApi(ApiView):
    kind: str

    def post(self, request, external_id: str):
        tenant = tenant_get(external_id=external_id)
        job = services.job_request(tenant=tenant, kind=self.kind, requested_by=JobOrigin.API)
        return Response(
            JobDetailOutput(selectors.job_get(job_id=job.pk)).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("provisioning:job-detail", kwargs={"job_id": job.pk})},
        )


class TenantProvisionApi(_JobRequestApi):
    kind = JobKind.PROVISION

    @extend_schema(
        operation_id="tenants_provision",
        summary="Provision a tenant",
        parameters=[EXTERNAL_ID],
        request=None,
        responses={202: JobDetailOutput, 409: _CONFLICT},
        tags=["jobs"],
    )
    def post(self, request, external_id: str):
        """Provision the tenant's integration. Returns the queued job, or the unfinished
        provision job if there already is one (asking twice is safe)."""
        return super().post(request, external_id)


class TenantRepairApi(_JobRequestApi):
    kind = JobKind.REPAIR

    @extend_schema(
        operation_id="tenants_repair",
        summary="Repair a tenant",
        parameters=[EXTERNAL_ID],
        request=None,
        responses={202: JobDetailOutput, 409: _CONFLICT},
        tags=["jobs"],
    )
    def post(self, request, external_id: str):
        """Run every provisioning step again against the tenant's existing integration."""
        return super().post(request, external_id)


class TenantJobListApi(ApiView):
    pagination_class = NewestFirstCursorPagination

    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=JobStatus.choices, required=False)

    query_parameters = {"get": Filters}

    @extend_schema(
        operation_id="tenants_jobs_list",
        summary="List a tenant's jobs",
        parameters=[EXTERNAL_ID, Filters],
        responses=JobOutput(many=True),
        tags=["jobs"],
    )
    def get(self, request, external_id: str):
        """The tenant's jobs, newest first, a page at a time (follow `next`)."""
        filters = query_filters(request, self.Filters)
        jobs = selectors.job_list(
            tenant=tenant_get(external_id=external_id), status=filters.get("status")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobOutput(page, many=True).data)


class JobApi(ApiView):
    @extend_schema(
        operation_id="jobs_retrieve",
        summary="Retrieve a job",
        responses=JobDetailOutput,
        tags=["jobs"],
    )
    def get(self, request, job_id: str):
        """One job: its steps with timings, outputs and API call counts, and its error."""
        return Response(JobDetailOutput(selectors.job_get(job_id=job_id)).data)


class JobRetryApi(ApiView):
    @extend_schema(
        operation_id="jobs_retry",
        summary="Retry a job",
        request=None,
        responses={202: JobDetailOutput, 409: _CONFLICT},
        tags=["jobs"],
    )
    def post(self, request, job_id: str):
        """Run a failed or canceled job again from its first unfinished step."""
        job = services.job_retry(job=selectors.job_get(job_id=job_id), requested_by=JobOrigin.API)
        return Response(
            JobDetailOutput(selectors.job_get(job_id=job.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class JobCancelApi(ApiView):
    @extend_schema(
        operation_id="jobs_cancel",
        summary="Cancel a job",
        request=None,
        responses={200: JobDetailOutput, 409: OpenApiResponse(description="Already finished.")},
        tags=["jobs"],
    )
    def post(self, request, job_id: str):
        """Cancel a queued or running job. A running step finishes its current call first."""
        job = services.job_cancel(job=selectors.job_get(job_id=job_id))
        return Response(JobDetailOutput(selectors.job_get(job_id=job.pk)).data)


# --- orphans -------------------------------------------------------------------------------------

ORPHAN_ID = OpenApiParameter(
    "orphan_id", str, OpenApiParameter.PATH, description="The orphan's id (a UUID)."
)


class OrphanOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=OrphanKind.choices)
    remote_id = serializers.CharField(help_text="The integration's or connection's id.")
    name = serializers.CharField(help_text="Its name in integrator.io.")
    mark = serializers.CharField(help_text="The tag or externalId that makes it this deployment's.")
    tenant = serializers.CharField(
        source="tenant.external_id",
        allow_null=True,
        default=None,
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
    pagination_class = OrphanPagination

    class OrphanFilters(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrphanStatus.choices, required=False)
        kind = serializers.ChoiceField(choices=OrphanKind.choices, required=False)

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
    @extend_schema(
        operation_id="orphans_delete_remotely",
        summary="Delete an orphan in integrator.io",
        parameters=[ORPHAN_ID],
        request=None,
        responses={
            200: OrphanOutput,
            409: OpenApiResponse(description="Not an open orphan."),
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
    class OrphanAdoptInput(InputSerializer):
        tenant = serializers.CharField(max_length=128, help_text="The tenant's external_id.")
        slot = serializers.CharField(
            max_length=64,
            required=False,
            help_text="For a connection: the slot it fills (default: the one its mark names).",
        )

    @extend_schema(
        operation_id="orphans_adopt",
        summary="Adopt an orphan into a tenant",
        parameters=[ORPHAN_ID],
        request=OrphanAdoptInput,
        responses={
            200: OrphanOutput,
            409: OpenApiResponse(description="Cannot be adopted."),
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
            tenant=tenant_get(external_id=data.validated_data["tenant"]),
            slot_key=data.validated_data.get("slot", ""),
            by=f"API key {request.user.name}",
            requested_by=JobOrigin.API,
        )
        return Response(OrphanOutput(orphan).data)

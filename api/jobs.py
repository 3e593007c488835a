"""The host app's API for provisioning jobs (/api/v1/).

Authentication, the error shape and `Idempotency-Key` come from `api.views.ApiView` and the
REST_FRAMEWORK settings. Each view calls one service or selector.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.pagination import NewestFirstCursorPagination
from api.query import query_filters
from api.scopes import Scope
from api.tenants import EXTERNAL_ID
from api.views import ApiView
from provisioning import selectors, services
from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.serializers import JobDetailOutput, JobOutput
from tenants.selectors import tenant_get, tenant_incarnation_get

_IN_PROGRESS = (
    "`job_in_progress`: another job of the tenant is unfinished (retry when it has finished)"
)
_GONE = "`tenant_deprovisioned`: the tenant is being (or has been) deprovisioned"


def _conflict(*reasons: str) -> OpenApiResponse:
    return OpenApiResponse(description="; ".join(reasons) + ".")


_REQUEST_CONFLICT = (
    _IN_PROGRESS,
    "`job_not_allowed`: the tenant's status does not allow this kind of job (the message "
    "says what to do instead)",
    _GONE,
)


class _JobRequestApi(ApiView):
    body_handlers = frozenset()  # an action: the path says it all
    kind: str

    def post(self, request, external_id: str):
        tenant = tenant_get(external_id=external_id)
        job = services.job_request(tenant=tenant, kind=self.kind, requested_by=JobOrigin.API)
        return Response(
            JobDetailOutput(selectors.job_get(job_id=job.pk)).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("job-detail", kwargs={"job_id": job.pk})},
        )


class TenantProvisionApi(_JobRequestApi):
    required_scopes = {"post": Scope.TENANTS_WRITE}
    kind = JobKind.PROVISION

    @extend_schema(
        operation_id="tenants_provision",
        summary="Provision a tenant",
        parameters=[EXTERNAL_ID],
        request=None,
        responses={
            202: JobDetailOutput,
            409: _conflict(
                *_REQUEST_CONFLICT,
                "`credentials_missing`: a slot has no working connection yet (`fields` names each)",
            ),
        },
        tags=["jobs"],
    )
    def post(self, request, external_id: str):
        """Provision the tenant's integration. Returns the queued job, or the unfinished
        provision job if there already is one (asking twice is safe)."""
        return super().post(request, external_id)


class TenantRepairApi(_JobRequestApi):
    required_scopes = {"post": Scope.TENANTS_WRITE}
    kind = JobKind.REPAIR

    @extend_schema(
        operation_id="tenants_repair",
        summary="Repair a tenant",
        parameters=[EXTERNAL_ID],
        request=None,
        responses={202: JobDetailOutput, 409: _conflict(*_REQUEST_CONFLICT)},
        tags=["jobs"],
    )
    def post(self, request, external_id: str):
        """Run every provisioning step again against the tenant's existing integration."""
        return super().post(request, external_id)


class TenantJobListApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}
    pagination_class = NewestFirstCursorPagination

    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=JobStatus.choices,
            required=False,
            error_messages={
                "invalid_choice": f"Not a job status; one of {', '.join(JobStatus.values)}."
            },
        )
        incarnation = serializers.IntegerField(
            min_value=1,
            max_value=2**31 - 1,
            required=False,
            help_text="The jobs of this incarnation of the tenant (its `incarnation`), an "
            "earlier one's included: a tenant deprovisioned and registered again keeps the "
            "earlier incarnation's jobs as history. Left out: the current incarnation's.",
        )

    query_parameters = {"get": Filters}

    @extend_schema(
        operation_id="tenants_jobs_list",
        summary="List a tenant's jobs",
        parameters=[EXTERNAL_ID, Filters],
        responses={
            200: JobOutput(many=True),
            404: OpenApiResponse(
                description="`tenant_not_found`: no current tenant with this external_id, or "
                "none of the `incarnation` asked for."
            ),
        },
        tags=["jobs"],
    )
    def get(self, request, external_id: str):
        """The tenant's jobs, newest first, a page at a time (follow `next`): the current
        incarnation's, or an earlier one's with `incarnation`."""
        filters = query_filters(request, self.Filters)
        tenant = tenant_incarnation_get(
            external_id=external_id, incarnation=filters.get("incarnation")
        )
        jobs = selectors.job_list(tenant=tenant, status=filters.get("status"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobOutput(page, many=True).data)


class JobApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

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
    required_scopes = {"post": Scope.TENANTS_WRITE}
    body_handlers = frozenset()  # an action: the path says it all

    @extend_schema(
        operation_id="jobs_retry",
        summary="Retry a job",
        request=None,
        responses={
            202: JobDetailOutput,
            409: _conflict(
                "`job_not_retryable`: the job is not failed or canceled (queued, running or "
                "succeeded)",
                "`job_superseded`: a newer job of the tenant has finished since, and only the "
                "latest job can be retried (the message names it, and says whether to retry "
                "that one or ask for the work again)",
                "`job_in_progress`: a newer job of the tenant is under way",
                _GONE,
            ),
        },
        tags=["jobs"],
    )
    def post(self, request, job_id: str):
        """Run a failed or canceled job again from its first unfinished step."""
        job = services.job_retry(job=selectors.job_get(job_id=job_id), requested_by=JobOrigin.API)
        return Response(
            JobDetailOutput(selectors.job_get(job_id=job.pk)).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("job-detail", kwargs={"job_id": job.pk})},
        )


class JobCancelApi(ApiView):
    required_scopes = {"post": Scope.TENANTS_WRITE}
    body_handlers = frozenset()  # an action: the path says it all

    @extend_schema(
        operation_id="jobs_cancel",
        summary="Cancel a job",
        request=None,
        responses={
            200: JobDetailOutput,
            409: _conflict("`job_finished`: the job has already finished"),
        },
        tags=["jobs"],
    )
    def post(self, request, job_id: str):
        """Cancel a queued or running job. A running step finishes its current call first."""
        job = services.job_cancel(job=selectors.job_get(job_id=job_id))
        return Response(JobDetailOutput(selectors.job_get(job_id=job.pk)).data)

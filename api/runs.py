"""The host app's API for a tenant's runs, flows and health (/api/v1/tenants/{external_id}).

Reads come from the mirror (synced every few minutes; `health.sync` says when); running a
flow and reading, resolving or retrying a run's errors ask integrator.io while the request
waits. Resolve and retry need an account on Error Management 2.0 (409 otherwise).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.pagination import NewestFirstCursorPagination
from api.query import QueryDateTimeField, query_filters
from api.schema import INTEGRATOR_RESPONSES
from api.scopes import Scope
from api.serializers import InputSerializer, UniqueListField
from api.tenants import EXTERNAL_ID
from api.views import ApiView
from runs import actions, selectors
from runs.health import health_rollup
from runs.models import HealthStatus, RunStatus
from tenants.models import ConnectionStatus, TenantStatus
from tenants.selectors import tenant_get, tenant_incarnation_get

FLOW_ID = OpenApiParameter(
    "flow_id", str, OpenApiParameter.PATH, description="The integrator.io id of the flow."
)
RUN_ID = OpenApiParameter(
    "run_id",
    str,
    OpenApiParameter.PATH,
    description="The run's id (`run_id` in the runs list; integrator.io's id of the flow's job).",
)


class FlowRunOutput(serializers.Serializer):
    run_id = serializers.CharField(
        source="job_id", help_text="The run's id (integrator.io's id of the flow's job)."
    )
    flow_id = serializers.CharField()
    flow_name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        choices=RunStatus.choices,
        help_text="integrator.io's status of the run, or `abandoned`: the service stopped "
        "following it before it ended (its tenant was deprovisioned, or integrator.io no "
        "longer has it), so how it ended is unknown; its counts are those last read.",
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True, help_text="Null while it is queued.")
    ended_at = serializers.DateTimeField(
        allow_null=True, help_text="Null until it ends, and for an abandoned run (never seen)."
    )
    duration_ms = serializers.IntegerField(allow_null=True)
    num_success = serializers.IntegerField()
    num_error = serializers.IntegerField()
    num_ignore = serializers.IntegerField()
    num_resolved = serializers.IntegerField()
    num_export = serializers.IntegerField(help_text="Records the flow's exports read.")
    num_pages = serializers.IntegerField(help_text="Pages the flow's exports made.")
    synced_at = serializers.DateTimeField()

    def get_flow_name(self, run) -> str | None:
        return self.context.get("flow_names", {}).get(run.flow_id) or None


class TenantFlowOutput(serializers.Serializer):
    flow_id = serializers.CharField()
    name = serializers.CharField()
    disabled = serializers.BooleanField()
    refreshed_at = serializers.DateTimeField()


class FlowRunErrorOutput(serializers.Serializer):
    error_id = serializers.CharField(help_text="integrator.io's errorId (Error Management 2.0).")
    step_id = serializers.CharField(
        allow_null=True, help_text="The export or import that failed; null on EM 1.0 accounts."
    )
    code = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    source = serializers.CharField(allow_null=True)
    trace_key = serializers.CharField(
        allow_null=True,
        help_text="The key of the record that failed (integrator.io's traceKey), to find it "
        "in the app; null when the error names no record (a step that read none).",
    )
    created_at = serializers.DateTimeField(
        source="occurred_at", allow_null=True, help_text="When the error occurred."
    )
    resolved = serializers.BooleanField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    retriable = serializers.SerializerMethodField(
        help_text="Whether `…/errors/retry` can retry it (open, with retry data)."
    )

    def get_retriable(self, error) -> bool:
        return bool(error.retry_data_key) and not error.resolved

    def to_representation(self, error):
        data = super().to_representation(error)
        for name in ("step_id", "code", "source"):
            data[name] = data[name] or None
        return data


class RunErrorsInput(InputSerializer):
    error_ids = UniqueListField(
        child=serializers.CharField(max_length=64),
        required=False,
        min_length=1,
        max_length=1000,
        help_text="The errors to act on (`error_id`); all the run's open errors when omitted.",
    )


def _error_ids(request) -> list[str] | None:
    data = RunErrorsInput(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data.get("error_ids")


_EM1_CONFLICT = OpenApiResponse(
    description="The integrator.io account uses Error Management 1.0, whose errors cannot be "
    "resolved or retried through the API (`error_management_unsupported`), or the tenant is "
    "being (or has been) deprovisioned (`tenant_deprovisioned`)."
)


class TenantRunListApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}
    pagination_class = NewestFirstCursorPagination

    class FlowRunFilters(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=RunStatus.choices,
            required=False,
            error_messages={
                "invalid_choice": f"Not a run status; one of {', '.join(RunStatus.values)}."
            },
        )
        flow = serializers.CharField(max_length=64, required=False, help_text="A flow id.")
        since = QueryDateTimeField(
            required=False, help_text="Runs created at or after this time (ISO 8601)."
        )
        incarnation = serializers.IntegerField(
            min_value=1,
            max_value=2**31 - 1,
            required=False,
            help_text="The runs of this incarnation of the tenant (its `incarnation`), an "
            "earlier one's included: a tenant deprovisioned and registered again keeps the "
            "earlier incarnation's runs as history. Left out: the current incarnation's.",
        )

    query_parameters = {"get": FlowRunFilters}

    @extend_schema(
        operation_id="tenants_runs_list",
        summary="List a tenant's runs",
        parameters=[EXTERNAL_ID, FlowRunFilters],
        responses={
            200: FlowRunOutput(many=True),
            404: OpenApiResponse(
                description="`tenant_not_found`: no current tenant with this external_id, or "
                "none of the `incarnation` asked for."
            ),
        },
        tags=["runs"],
    )
    def get(self, request, external_id: str):
        """The tenant's flow runs, newest first, a page at a time (follow `next`): the
        current incarnation's, or an earlier one's with `incarnation`."""
        values = query_filters(request, self.FlowRunFilters)
        tenant = tenant_incarnation_get(
            external_id=external_id, incarnation=values.get("incarnation")
        )
        runs = selectors.run_list(
            tenant=tenant,
            status=values.get("status"),
            flow_id=values.get("flow"),
            since=values.get("since"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(runs, request, view=self)
        context = {"flow_names": selectors.flow_names(tenant=tenant)}
        return paginator.get_paginated_response(
            FlowRunOutput(page, many=True, context=context).data
        )


class TenantRunErrorsApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

    class FlowRunErrorsOutput(serializers.Serializer):
        run_id = serializers.CharField()
        errors = FlowRunErrorOutput(many=True)

    @extend_schema(
        operation_id="tenants_runs_errors",
        summary="List a run's errors",
        parameters=[EXTERNAL_ID, RUN_ID],
        responses={200: FlowRunErrorsOutput, **INTEGRATOR_RESPONSES},
        tags=["runs"],
    )
    def get(self, request, external_id: str, run_id: str):
        """A run's errors, read from integrator.io now: code, message and source only
        (record data is neither stored nor shown; what looks like a credential in a message,
        an app repeating the request it refused, is masked as `[REDACTED]`). Up to 1000
        errors."""
        tenant = tenant_get(external_id=external_id)
        errors = actions.run_errors_fetch(tenant=tenant, job_id=run_id)
        return Response({"run_id": run_id, "errors": FlowRunErrorOutput(errors, many=True).data})


class TenantRunErrorsResolveApi(ApiView):
    required_scopes = {"post": Scope.TENANTS_WRITE}

    class RunErrorsResolvedOutput(serializers.Serializer):
        run_id = serializers.CharField()
        errors = FlowRunErrorOutput(many=True)

    @extend_schema(
        operation_id="tenants_runs_errors_resolve",
        summary="Mark a run's errors resolved",
        parameters=[EXTERNAL_ID, RUN_ID],
        request=RunErrorsInput,
        responses={200: RunErrorsResolvedOutput, **INTEGRATOR_RESPONSES, 409: _EM1_CONFLICT},
        tags=["runs"],
    )
    def post(self, request, external_id: str, run_id: str):
        """Mark the run's open errors (all, or `error_ids`) resolved in integrator.io, and
        answer the run's errors as integrator.io has them afterwards. Asking twice is safe."""
        errors = actions.run_errors_resolve_now(
            tenant=tenant_get(external_id=external_id),
            job_id=run_id,
            error_ids=_error_ids(request),
        )
        return Response({"run_id": run_id, "errors": FlowRunErrorOutput(errors, many=True).data})


class TenantRunErrorsRetryApi(ApiView):
    required_scopes = {"post": Scope.TENANTS_WRITE}

    class RunErrorsRetriedOutput(serializers.Serializer):
        run_id = serializers.CharField()
        retry_job_ids = serializers.ListField(
            child=serializers.CharField(), help_text="integrator.io's retry jobs."
        )
        errors = FlowRunErrorOutput(many=True)

    @extend_schema(
        operation_id="tenants_runs_errors_retry",
        summary="Retry a run's errors",
        parameters=[EXTERNAL_ID, RUN_ID],
        request=RunErrorsInput,
        responses={202: RunErrorsRetriedOutput, **INTEGRATOR_RESPONSES, 409: _EM1_CONFLICT},
        tags=["runs"],
    )
    def post(self, request, external_id: str, run_id: str):
        """Send the run's open errors that can be retried (all, or `error_ids`) through
        their step again. Records that fail again show as new open errors. Send an
        Idempotency-Key to make a repeated request safe: without one, a repeat retries again."""
        retried = actions.run_errors_retry_now(
            tenant=tenant_get(external_id=external_id),
            job_id=run_id,
            error_ids=_error_ids(request),
        )
        body = {
            "run_id": run_id,
            "retry_job_ids": retried.retry_job_ids,
            "errors": FlowRunErrorOutput(retried.errors, many=True).data,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class TenantFlowListApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

    class TenantFlowsOutput(serializers.Serializer):
        results = TenantFlowOutput(many=True)

    @extend_schema(
        operation_id="tenants_flows_list",
        summary="List a tenant's flows",
        parameters=[EXTERNAL_ID],
        responses=TenantFlowsOutput,
        tags=["runs"],
    )
    def get(self, request, external_id: str):
        """The flows of the tenant's integration, as last listed from integrator.io."""
        tenant = tenant_get(external_id=external_id)
        flows = selectors.flow_list(tenant=tenant)
        return Response({"results": TenantFlowOutput(flows, many=True).data})


class TenantFlowRunApi(ApiView):
    required_scopes = {"post": Scope.TENANTS_WRITE}
    body_handlers = frozenset()  # an action: the path says it all

    class FlowRunStartedOutput(serializers.Serializer):
        flow_id = serializers.CharField()
        run_id = serializers.CharField(help_text="The new run's id.")
        run = FlowRunOutput(
            allow_null=True,
            help_text="Null until the new run could be read back from integrator.io.",
        )

    @extend_schema(
        operation_id="tenants_flows_run",
        summary="Run a flow now",
        parameters=[EXTERNAL_ID, FLOW_ID],
        request=None,
        responses={
            202: FlowRunStartedOutput,
            **INTEGRATOR_RESPONSES,
            409: OpenApiResponse(
                description="`tenant_not_live`: the tenant is not active or degraded yet (its "
                "flows run once it is), or has no integration in integrator.io yet (a repair "
                "makes one); `flow_disabled`: the flow is switched off, or no "
                "longer in the integration, or being switched on by a job not ended yet "
                "(then with Retry-After); `tenant_deprovisioned`: the tenant is being (or "
                "has been) deprovisioned, and its flows no longer run."
            ),
            502: OpenApiResponse(
                description="`run_outcome_unknown`: the run request was sent but its answer "
                "was lost, so the run may have started. Look at the tenant's runs "
                "(`GET /api/v1/tenants/{external_id}/runs?flow={flow_id}`) before asking "
                "again."
            ),
        },
        tags=["runs"],
    )
    def post(self, request, external_id: str, flow_id: str):
        """Run the flow now. integrator.io queues it if the flow is already running. Send an
        Idempotency-Key to make a retried request safe: without one, a repeat is a second run."""
        tenant = tenant_get(external_id=external_id)
        started = actions.flow_run_start(tenant=tenant, flow_id=flow_id)
        context = {"flow_names": selectors.flow_names(tenant=tenant)}
        body = {
            "flow_id": started.flow_id,
            "run_id": started.job_id,
            "run": FlowRunOutput(started.run, context=context).data if started.run else None,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class HealthLastRunOutput(serializers.Serializer):
    run_id = serializers.CharField(source="job_id")
    flow_id = serializers.CharField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(
        allow_null=True, help_text="Null until it ends, and for an abandoned run (never seen)."
    )
    num_error = serializers.IntegerField()


class HealthFailingFlowOutput(serializers.Serializer):
    flow_id = serializers.CharField()
    name = serializers.CharField()
    failed_runs = serializers.IntegerField()


class HealthOfflineConnectionOutput(serializers.Serializer):
    slot = serializers.CharField()
    connection_id = serializers.CharField(allow_null=True)
    last_ping_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class HealthLastDayOutput(serializers.Serializer):
    runs = serializers.IntegerField()
    failed_runs = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Record errors, summed over the runs.")


class RunSyncOutput(serializers.Serializer):
    last_synced_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    next_sync_at = serializers.DateTimeField(allow_null=True)
    last_checked_at = serializers.DateTimeField(allow_null=True)


class TenantHealthApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

    class TenantHealthOutput(serializers.Serializer):
        external_id = serializers.CharField()
        status = serializers.ChoiceField(choices=HealthStatus.choices)
        tenant_status = serializers.ChoiceField(choices=TenantStatus.choices)
        reasons = serializers.ListField(child=serializers.CharField())
        last_run = HealthLastRunOutput(allow_null=True)
        last_success_at = serializers.DateTimeField(allow_null=True)
        last_24h = HealthLastDayOutput()
        failing_flows = HealthFailingFlowOutput(many=True)
        offline_connections = HealthOfflineConnectionOutput(many=True)
        sync = RunSyncOutput()

    @extend_schema(
        operation_id="tenants_health",
        summary="Retrieve a tenant's health",
        parameters=[EXTERNAL_ID],
        responses=TenantHealthOutput,
        tags=["runs"],
    )
    def get(self, request, external_id: str):
        """The tenant's health: last run and success, the last 24 hours, failing flows,
        offline connections, and when its runs were last synced."""
        tenant = tenant_get(external_id=external_id)
        rollup = health_rollup(tenant=tenant)
        body = {
            "external_id": tenant.external_id,
            "status": rollup.status,
            "tenant_status": tenant.status,
            "reasons": rollup.reasons,
            "last_run": rollup.last_run,
            "last_success_at": rollup.last_success_at,
            "last_24h": {
                "runs": rollup.runs_24h,
                "failed_runs": rollup.failed_runs_24h,
                "errors": rollup.errors_24h,
            },
            "failing_flows": rollup.failing_flows,
            "offline_connections": rollup.offline_connections,
            "sync": selectors.tenant_sync_times(tenant=tenant),
        }
        return Response(self.TenantHealthOutput(body).data)


class CheckedConnectionOutput(serializers.Serializer):
    slot = serializers.CharField(source="slot_key")
    connection_id = serializers.CharField()
    status = serializers.ChoiceField(choices=ConnectionStatus.choices)
    last_ping_at = serializers.DateTimeField(allow_null=True)
    error = serializers.SerializerMethodField(
        help_text="Why its ping failed, as integrator.io said; null when it works."
    )

    def get_error(self, connection) -> str | None:
        if connection.status != ConnectionStatus.FAILED:
            return None
        return connection.last_ping_error or None


class TenantConnectionsCheckApi(ApiView):
    required_scopes = {"post": Scope.TENANTS_WRITE}
    body_handlers = frozenset()  # an action: the path says it all

    class ConnectionsCheckedOutput(serializers.Serializer):
        external_id = serializers.CharField()
        tenant_status = serializers.ChoiceField(
            choices=TenantStatus.choices,
            help_text="After the check: a tenant degraded by a connection that works again is "
            "active again.",
        )
        connections = CheckedConnectionOutput(many=True)

    @extend_schema(
        operation_id="tenants_connections_check",
        summary="Check a tenant's connections now",
        parameters=[EXTERNAL_ID],
        request=None,
        responses={
            200: ConnectionsCheckedOutput,
            **INTEGRATOR_RESPONSES,
            409: OpenApiResponse(
                description="`no_connections`: the tenant has no connection in integrator.io "
                "to check; `tenant_not_live`: the tenant is not active or degraded (its "
                "connections are checked once it is); `tenant_deprovisioned`: the tenant is "
                "being (or has been) deprovisioned."
            ),
            429: OpenApiResponse(
                description="`check_too_soon`: the tenant's connections were checked on "
                "request less than 30 seconds ago (Retry-After says when to ask again); "
                "`rate_limited`: integrator.io is limiting this service's calls."
            ),
        },
        tags=["runs"],
    )
    def post(self, request, external_id: str):
        """Ping the tenant's connections now, as the periodic check does every
        RUNS_CHECK_INTERVAL_SECONDS: each connection's state is updated, and the tenant's
        health and status move (and webhooks go out) as they would at that check. Once per
        tenant every 30 seconds (the customer's "Check again" shares the turn)."""
        tenant = tenant_get(external_id=external_id)
        connections = actions.tenant_connections_check_now(tenant=tenant)
        tenant.refresh_from_db(fields=["status"])
        body = {
            "external_id": tenant.external_id,
            "tenant_status": tenant.status,
            "connections": connections,
        }
        return Response(self.ConnectionsCheckedOutput(body).data)

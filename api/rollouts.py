"""The host app's API for rollouts (/api/v1/): template versions taken to the tenants in
waves, their progress and controls, and one tenant's version (pin, unpin, move).

Authentication, the error shape and `Idempotency-Key` come from `api.views.ApiView`. Each view
calls one service or selector of `rollouts`.
"""

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from api.pagination import NewestFirstCursorPagination
from api.query import query_filters
from api.scopes import Scope
from api.serializers import InputSerializer, UniqueListField
from api.tenants import EXTERNAL_ID, TEMPLATE_KEY, _path_parameter
from api.views import ApiView
from provisioning import selectors as job_selectors
from provisioning.models import JobOrigin
from provisioning.serializers import JobDetailOutput
from rollouts import selectors, services
from rollouts.models import RolloutStatus, RolloutStrategy, RolloutTenantState
from rollouts.plan import MAX_PAUSE_SECONDS, MAX_WAVE_SIZE, RolloutSpec
from tenants.selectors import template_get, tenant_get

ROLLOUT_ID = _path_parameter(
    "rollout_id", "0b7f2c1e-4c4d-4a5e-9b1a-2f7d1c9e8a10", "The rollout's id."
)


# --- outputs --------------------------------------------------------------------------------


class StateCountsOutput(serializers.Serializer):
    """Tenants in each state."""

    pending = serializers.IntegerField(help_text="Waiting for their wave.")
    skipped_pinned = serializers.IntegerField(help_text="Pinned to their version: left alone.")
    skipped_already = serializers.IntegerField(help_text="Already on the version.")
    skipped_gone = serializers.IntegerField(
        help_text="Deprovisioned before their upgrade: left out; no failure either."
    )
    not_started = serializers.IntegerField(
        help_text="The rollout was aborted or rolled back before their upgrade was queued: "
        "still on their version."
    )
    queued = serializers.IntegerField(help_text="Upgrade job queued or running.")
    succeeded = serializers.IntegerField(help_text="Moved to the version.")
    failed = serializers.IntegerField(help_text="Upgrade failed; still on their version.")
    rolled_back = serializers.IntegerField(help_text="Moved, then back by a rollback.")


class WaveOutput(serializers.Serializer):
    wave = serializers.IntegerField(help_text="1 is the first (the canaries, if any).")
    tenants = serializers.IntegerField()
    states = StateCountsOutput()
    failure_rate = serializers.FloatField(
        allow_null=True, help_text="Failed over finished upgrades; null before any finished."
    )


class RolloutOutput(serializers.Serializer):
    id = serializers.UUIDField()
    template = serializers.CharField(source="template.key", help_text="The template key.")
    to_version = serializers.CharField(
        source="to_version.version", help_text="The version the tenants move to."
    )
    strategy = serializers.ChoiceField(choices=RolloutStrategy.choices)
    canary_tenants = serializers.ListField(
        child=serializers.CharField(),
        help_text="External ids named as canaries: the first wave, but for any skipped (pinned, "
        "or already on the version), which its tenants list shows with `canary: true`.",
    )
    wave_percent = serializers.IntegerField(allow_null=True)
    wave_size = serializers.IntegerField(allow_null=True)
    pause_seconds = serializers.IntegerField()
    max_failure_rate = serializers.FloatField()
    status = serializers.ChoiceField(choices=RolloutStatus.choices)
    halt_reason = serializers.CharField(
        help_text="Why it last halted (and, once retries of that wave's failed upgrades have "
        "ended, how the wave stands now); empty otherwise."
    )
    created_by = serializers.CharField()
    current_wave = serializers.IntegerField(help_text="The last wave queued (0: none yet).")
    wave_count = serializers.IntegerField()
    next_wave_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the next wave may be queued (after the pause); null when none is "
        "coming: halted (resuming queues it at once), finished, aborted, rolled back.",
    )
    rollback_wave = serializers.IntegerField(
        help_text="On rollback: the wave moving back (last wave first); 0 before."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class RolloutProgressOutput(serializers.Serializer):
    states = StateCountsOutput(help_text="Every tenant of the rollout, by state.")
    waves = WaveOutput(many=True)


class RolloutDetailOutput(RolloutOutput):
    progress = serializers.SerializerMethodField(
        help_text="Tenants by state, overall and per wave."
    )

    @extend_schema_field(RolloutProgressOutput)
    def get_progress(self, rollout) -> dict:
        return selectors.rollout_progress(rollout=rollout)


class RolloutTenantOutput(serializers.Serializer):
    external_id = serializers.CharField(source="tenant.external_id")
    wave = serializers.IntegerField(help_text="0: skipped from the start.")
    from_version = serializers.CharField(
        source="from_version.version", help_text="The version it came from."
    )
    state = serializers.ChoiceField(choices=RolloutTenantState.choices)
    job = serializers.UUIDField(source="job_id", allow_null=True, help_text="Its upgrade job.")
    error = serializers.CharField(help_text="Why its upgrade failed (or waits); empty if not.")
    rollback_job = serializers.UUIDField(
        source="rollback_job_id", allow_null=True, help_text="The job taking it back."
    )
    rollback_error = serializers.CharField(help_text="Why it was not taken back, if it wasn't.")
    canary = serializers.SerializerMethodField(
        help_text="Named in the rollout's `canary_tenants`: in wave 1, or skipped (wave 0)."
    )
    updated_at = serializers.DateTimeField()

    def get_canary(self, entry) -> bool:
        return entry.tenant.external_id in self.context["canary_tenants"]


class DryRunWaveOutput(serializers.Serializer):
    wave = serializers.IntegerField()
    tenants = serializers.IntegerField()
    external_ids = serializers.ListField(child=serializers.CharField())


class DryRunSkippedOutput(serializers.Serializer):
    external_id = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=[RolloutTenantState.SKIPPED_PINNED, RolloutTenantState.SKIPPED_ALREADY]
    )
    version = serializers.CharField(help_text="The version it stays on.")
    canary = serializers.BooleanField(
        help_text="Named in `canary_tenants`: the canary wave goes without it (a rollout "
        "whose every canary would be skipped is refused)."
    )


class RolloutDryRunOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    template = serializers.CharField()
    to_version = serializers.CharField()
    tenants = serializers.IntegerField(help_text="How many tenants would move.")
    waves = DryRunWaveOutput(many=True)
    skipped = DryRunSkippedOutput(many=True)
    problems = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Per external_id, why its upgrade would be refused, failing its wave "
        "(`code`, `message`, `fields`: `settings_invalid_for_version`, a setting the version "
        "does not have; set it to null first); absent when there is none.",
    )
    estimates = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Per external_id, the changes and API calls its upgrade would take (from the "
        "two versions' snapshots, assuming no drift): the estimate of `GET /tenants/{id}/plan"
        "?version=`, its reads included, retries not (a lower bound). A tenant on a version "
        "published without a snapshot (`--offline`) has none; absent when no tenant has one.",
    )
    totals = serializers.JSONField(
        required=False,
        help_text="Over every estimated tenant: API calls, changes by kind, tenants estimated.",
    )


class TenantVersionOutput(serializers.Serializer):
    external_id = serializers.CharField()
    version = serializers.CharField(source="template_version.version")
    version_pinned = serializers.BooleanField(help_text="Rollouts leave a pinned tenant alone.")


# --- rollouts -------------------------------------------------------------------------------


class TemplateRolloutCollectionApi(ApiView):
    required_scopes = {"post": Scope.TEMPLATES_MANAGE}

    class RolloutCreateInput(InputSerializer):
        to_version = serializers.CharField(max_length=32, help_text="A version of the template.")
        strategy = serializers.ChoiceField(
            choices=RolloutStrategy.values,
            help_text="canary: `canary_tenants` first, then waves; percent: waves of "
            "`wave_percent` % of the eligible tenants.",
        )
        canary_tenants = UniqueListField(
            child=serializers.CharField(max_length=128),
            max_length=100,
            required=False,
            help_text="External ids of the first wave (canary strategy).",
        )
        wave_percent = serializers.IntegerField(
            min_value=1, max_value=100, required=False, help_text="Each wave's share, in %."
        )
        wave_size = serializers.IntegerField(
            min_value=1,
            max_value=MAX_WAVE_SIZE,
            required=False,
            help_text="Tenants per wave (after the canaries).",
        )
        pause_seconds = serializers.IntegerField(
            min_value=0,
            max_value=MAX_PAUSE_SECONDS,
            required=False,
            help_text="Wait between a wave's end and the next wave.",
        )
        max_failure_rate = serializers.FloatField(
            min_value=0,
            max_value=1,
            required=False,
            help_text="A wave whose failed / finished upgrades exceed this halts the rollout "
            "(0, the default: any failure halts).",
        )
        dry_run = serializers.BooleanField(
            required=False, help_text="Answer what would happen; start nothing."
        )

    @extend_schema(
        operation_id="rollouts_create",
        summary="Start (or dry-run) a rollout",
        parameters=[TEMPLATE_KEY],
        request=RolloutCreateInput,
        responses={
            201: RolloutDetailOutput,
            200: OpenApiResponse(RolloutDryRunOutput, description="The dry run's summary."),
            409: OpenApiResponse(
                description="`rollout_in_progress`: a rollout of the template is in flight "
                "(running, paused or rolling back); `version_retired`: the version is retired "
                "(the dry run too); `version_without_snapshot`: the version has no snapshot "
                "(published --offline; the dry run too); `nothing_to_roll_out`: no tenant "
                "would move."
            ),
        },
        examples=[
            OpenApiExample(
                "Canary, then waves of 25%",
                value={
                    "to_version": "1.1.0",
                    "strategy": "canary",
                    "canary_tenants": ["acme"],
                    "wave_percent": 25,
                    "pause_seconds": 600,
                    "max_failure_rate": 0.1,
                },
                request_only=True,
            )
        ],
        tags=["rollouts"],
    )
    def post(self, request, key: str):
        """Move the template's tenants to `to_version` in waves. With `dry_run`, answer the
        waves, the tenants skipped and why, and nothing starts."""
        data = self.RolloutCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        template = template_get(key=key)
        to_version = selectors.template_version_get(
            template=template, version=values.pop("to_version")
        )
        dry_run = values.pop("dry_run", False)
        spec = RolloutSpec(**values)
        if dry_run:
            summary = services.rollout_dry_run(template=template, to_version=to_version, spec=spec)
            return Response(RolloutDryRunOutput(summary).data)
        rollout = services.rollout_start(
            template=template,
            to_version=to_version,
            spec=spec,
            created_by=f"api: {getattr(request.auth, 'name', '') or 'host app'}",
        )
        return Response(
            RolloutDetailOutput(selectors.rollout_get(rollout_id=rollout.pk)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("rollout-detail", kwargs={"rollout_id": rollout.pk})},
        )


class RolloutListApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}
    pagination_class = NewestFirstCursorPagination

    class RolloutFilters(serializers.Serializer):
        template = serializers.CharField(max_length=64, required=False)
        # An unknown value is answered with the values taken, as the other lists' filters do.
        status = serializers.ChoiceField(
            choices=RolloutStatus.choices,
            required=False,
            error_messages={
                "invalid_choice": f"Not a rollout status; one of {', '.join(RolloutStatus.values)}."
            },
        )

    query_parameters = {"get": RolloutFilters}

    @extend_schema(
        operation_id="rollouts_list",
        summary="List rollouts",
        parameters=[RolloutFilters],
        responses=RolloutOutput(many=True),
        tags=["rollouts"],
    )
    def get(self, request):
        """Rollouts, newest first, a page at a time (follow `next`)."""
        filters = query_filters(request, self.RolloutFilters)
        rollouts = selectors.rollout_list(
            template_key=filters.get("template"), status=filters.get("status")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rollouts, request, view=self)
        return paginator.get_paginated_response(RolloutOutput(page, many=True).data)


class RolloutApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}

    @extend_schema(
        operation_id="rollouts_retrieve",
        summary="Retrieve a rollout",
        parameters=[ROLLOUT_ID],
        responses=RolloutDetailOutput,
        tags=["rollouts"],
    )
    def get(self, request, rollout_id: str):
        """One rollout: its status and, per wave and overall, its tenants by state."""
        return Response(RolloutDetailOutput(selectors.rollout_get(rollout_id=rollout_id)).data)


class _WaveOrderPagination(NewestFirstCursorPagination):
    # A rollout's tenants in wave order (rows are written in it): ids only ever grow.
    ordering = ("id",)


class RolloutTenantListApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}
    pagination_class = _WaveOrderPagination

    class RolloutTenantFilters(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=RolloutTenantState.choices,
            required=False,
            error_messages={
                "invalid_choice": "Not a tenant's state in a rollout; one of "
                f"{', '.join(RolloutTenantState.values)}."
            },
        )

    query_parameters = {"get": RolloutTenantFilters}

    @extend_schema(
        operation_id="rollouts_tenants_list",
        summary="List a rollout's tenants",
        parameters=[ROLLOUT_ID, RolloutTenantFilters],
        responses=RolloutTenantOutput(many=True),
        tags=["rollouts"],
    )
    def get(self, request, rollout_id: str):
        """The rollout's tenants in wave order (skipped ones, wave 0, last), a page at a time."""
        filters = query_filters(request, self.RolloutTenantFilters)
        rollout = selectors.rollout_get(rollout_id=rollout_id)
        entries = selectors.rollout_tenant_list(rollout=rollout, state=filters.get("state"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, view=self)
        context = {"canary_tenants": frozenset(rollout.canary_tenants)}
        return paginator.get_paginated_response(
            RolloutTenantOutput(page, many=True, context=context).data
        )


_NOT_NOW = (
    "`invalid_rollout_transition`: not possible in the rollout's status (the message says "
    "from which it is)"
)


def _action_schema(name: str, summary: str, *conflicts: str):
    return extend_schema(
        operation_id=f"rollouts_{name}",
        summary=summary,
        parameters=[ROLLOUT_ID],
        request=None,
        responses={
            200: RolloutDetailOutput,
            409: OpenApiResponse(description="; ".join((_NOT_NOW, *conflicts)) + "."),
        },
        tags=["rollouts"],
    )


class _RolloutActionApi(ApiView):
    """A control of a rollout: one service; the answer is the rollout as it is after it."""

    required_scopes = {"post": Scope.TEMPLATES_MANAGE}
    body_handlers = frozenset()  # an action: the path says it all

    @staticmethod
    def action(*, rollout):
        raise NotImplementedError

    def post(self, request, rollout_id: str):
        rollout = self.action(rollout=selectors.rollout_get(rollout_id=rollout_id))
        return Response(RolloutDetailOutput(selectors.rollout_get(rollout_id=rollout.pk)).data)


class RolloutPauseApi(_RolloutActionApi):
    action = staticmethod(services.rollout_pause)

    @_action_schema("pause", "Pause a rollout")
    def post(self, request, rollout_id: str):
        """Queue no further wave; the upgrades already queued finish. Only a running one."""
        return super().post(request, rollout_id)


class RolloutResumeApi(_RolloutActionApi):
    action = staticmethod(services.rollout_resume)

    @_action_schema(
        "resume",
        "Resume a rollout",
        "`rollout_in_progress`: another rollout of the template was started while this one "
        "was halted",
    )
    def post(self, request, rollout_id: str):
        """Go on with a paused or halted rollout (after a halt, the next wave is due now)."""
        return super().post(request, rollout_id)


class RolloutAbortApi(_RolloutActionApi):
    action = staticmethod(services.rollout_abort)

    @_action_schema("abort", "Abort a rollout")
    def post(self, request, rollout_id: str):
        """Stop for good: nothing more is queued, queued upgrades finish, moved tenants stay
        moved (roll it back to undo them)."""
        return super().post(request, rollout_id)


class RolloutRollbackApi(_RolloutActionApi):
    action = staticmethod(services.rollout_rollback)

    @_action_schema(
        "rollback",
        "Roll a rollout back",
        "`rollout_in_progress`: another rollout of the template is in flight",
    )
    def post(self, request, rollout_id: str):
        """Move every tenant the rollout moved back to the version it came from, through
        upgrade jobs, a wave at a time (last wave first)."""
        return super().post(request, rollout_id)


# --- one tenant's version -------------------------------------------------------------------


class _TenantPinApi(ApiView):
    required_scopes = {"post": Scope.TEMPLATES_MANAGE}
    body_handlers = frozenset()  # an action: the path says it all
    pinned: bool

    def post(self, request, external_id: str):
        tenant = services.tenant_pin(tenant=tenant_get(external_id=external_id), pinned=self.pinned)
        return Response(TenantVersionOutput(tenant).data)


def _pin_schema(operation_id: str, summary: str):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        parameters=[EXTERNAL_ID],
        request=None,
        responses={
            200: TenantVersionOutput,
            409: OpenApiResponse(
                description="`tenant_deprovisioned`: the tenant is being (or has been) "
                "deprovisioned and can no longer be changed."
            ),
        },
        tags=["rollouts"],
    )


class TenantPinApi(_TenantPinApi):
    pinned = True

    @_pin_schema("tenants_pin", "Pin a tenant to its version")
    def post(self, request, external_id: str):
        """Rollouts leave the tenant on its version, and list it as skipped_pinned. An upgrade
        asked for this tenant alone still runs."""
        return super().post(request, external_id)


class TenantUnpinApi(_TenantPinApi):
    pinned = False

    @_pin_schema("tenants_unpin", "Unpin a tenant")
    def post(self, request, external_id: str):
        """Later rollouts (and waves not yet queued) move the tenant again."""
        return super().post(request, external_id)


class TenantUpgradeApi(ApiView):
    required_scopes = {"post": Scope.TEMPLATES_MANAGE}

    class TenantUpgradeInput(InputSerializer):
        to_version = serializers.CharField(
            max_length=32, help_text="A version of the tenant's template, newer or older."
        )

    @extend_schema(
        operation_id="tenants_upgrade",
        summary="Move one tenant to a version",
        parameters=[EXTERNAL_ID],
        request=TenantUpgradeInput,
        responses={
            202: JobDetailOutput,
            409: OpenApiResponse(
                description="`tenant_deprovisioned`: the tenant is being (or has been) "
                "deprovisioned; `tenant_version_conflict`: it is already on the version; "
                "`version_retired`: the version is retired; `version_without_snapshot`: the "
                "version has no snapshot (published --offline); `settings_invalid_for_version`: "
                "the tenant's settings do not fit the version (a setting only its own version "
                "has: set it to null first), `fields` names them; `job_in_progress`: another job "
                "of the tenant is unfinished; `job_not_allowed`: the tenant's status takes no "
                "upgrade (not built yet: it is built to its own version, its "
                "`template.version`, when provisioned; move it once it is live)."
            ),
        },
        tags=["rollouts"],
    )
    def post(self, request, external_id: str):
        """Queue the upgrade job that moves the tenant's integration to `to_version`: an older
        one to roll it back, a newer one ahead of a rollout. Pinned tenants too."""
        data = self.TenantUpgradeInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = tenant_get(external_id=external_id)
        to_version = selectors.template_version_get(
            template=tenant.template, version=data.validated_data["to_version"]
        )
        job = services.tenant_rollback(
            tenant=tenant, to_version=to_version, requested_by=JobOrigin.API
        )
        return Response(
            JobDetailOutput(job_selectors.job_get(job_id=job.pk)).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("job-detail", kwargs={"job_id": job.pk})},
        )

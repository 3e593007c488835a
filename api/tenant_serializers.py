"""Output serializers shared by several tenant endpoints (each view keeps its own input)."""

from datetime import UTC, datetime

from rest_framework import serializers

from api.views import IntegratorStatusOutput
from core.models import IntegratorRegion
from core.sandbox_address import sandbox_url_fill
from provisioning.models import JobKind, JobStatus
from tenants import version_order
from tenants.models import ConnectionStatus, TenantStatus
from tenants.selectors import template_settings_schema, tenant_connection_health
from tenants.services.oauth_maps import is_oauth_slot
from tenants.services.settings import schema_defaults
from tenants.services.tenants import GONE_STATUSES


class ChoiceOutput(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class TemplateFieldOutput(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    help_text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["text", "password", "url", "select", "number"])
    required = serializers.BooleanField()
    secret = serializers.BooleanField(help_text="Sent to integrator.io, never stored or shown.")
    choices = ChoiceOutput(many=True, required=False)
    pattern = serializers.CharField(required=False)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    max_length = serializers.IntegerField(required=False)
    placeholder = serializers.CharField(required=False)

    def to_representation(self, field):
        shown = {
            "name": field["name"],
            "label": field["label"],
            # A demo template names the sandbox as `{sandbox_url}`: shown filled, as the
            # credential form shows it.
            "help_text": sandbox_url_fill(field.get("help_text", "")),
            "kind": field["kind"],
            "required": field.get("required", False),
            "secret": field["kind"] == "password",
        }
        if "choices" in field:
            shown["choices"] = [
                {"value": c, "label": c} if isinstance(c, str) else c for c in field["choices"]
            ]
        for name in ("pattern", "min", "max", "max_length"):
            if name in field:
                shown[name] = field[name]
        if "placeholder" in field:
            shown["placeholder"] = sandbox_url_fill(field["placeholder"])
        return shown


class TemplateSlotOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    connection_type = serializers.CharField()
    oauth = serializers.BooleanField(
        help_text="true: the slot is connected by the customer's consent at its app (OAuth 2), "
        "not by typed credentials: it has no fields, and PUT …/connections/{slot} refuses it "
        "(400 `oauth_slot`); send the customer a connect link (with `slot` for that slot "
        "alone)."
    )
    fields = TemplateFieldOutput(many=True)

    def to_representation(self, slot):
        # The slot's static connection body and field targets are the service's business.
        return {
            "key": slot["key"],
            "label": slot["label"],
            "description": slot.get("description", ""),
            "connection_type": slot["connection_type"],
            "oauth": is_oauth_slot(slot),
            "fields": [TemplateFieldOutput().to_representation(f) for f in slot.get("fields", [])],
        }


class TemplateAccountOutput(serializers.Serializer):
    key = serializers.SlugField()
    region = serializers.ChoiceField(
        choices=IntegratorRegion.choices, help_text="integrator.io's region of that account."
    )


class TemplateOutput(serializers.Serializer):
    key = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.CharField()
    is_active = serializers.BooleanField()
    slots = TemplateSlotOutput(many=True)
    settings_schema = serializers.DictField(
        help_text="A JSON Schema, the one settings are validated against; `default`s apply. A "
        "setting that sets the flows' schedule lists, as its `enum`, the intervals a schedule "
        "can say within its bounds."
    )
    settings_defaults = serializers.DictField()
    integrator_account = TemplateAccountOutput(
        help_text="The integrator.io account (and so the region) the template integration "
        "lives on: its tenants are placed there. A host keeping a customer's data in a region "
        "names a template of that region."
    )
    updated_at = serializers.DateTimeField()

    def to_representation(self, template):
        return {
            "key": template.key,
            "name": template.name,
            "description": template.description,
            "version": template.version,
            "is_active": template.is_active,
            "slots": [TemplateSlotOutput().to_representation(slot) for slot in template.slots],
            "settings_schema": template_settings_schema(template=template),
            "settings_defaults": schema_defaults(template.settings_schema),
            "integrator_account": {
                "key": template.account.key,
                "region": template.account.region,
            },
            "updated_at": serializers.DateTimeField().to_representation(template.updated_at),
        }


class TemplateRefOutput(serializers.Serializer):
    key = serializers.SlugField()
    name = serializers.CharField()
    version = serializers.CharField(help_text="The version the tenant's integration is built to.")
    pinned = serializers.BooleanField(help_text="Rollouts leave a pinned tenant on its version.")
    upgrade_available = serializers.CharField(
        allow_null=True,
        help_text="The template's newest version when it is higher than the tenant's, else "
        "null (never a lower version). A version published without a snapshot (`--offline`) "
        "is named too, as new tenants are built on it, but moving an existing tenant to it "
        "is refused (409 `version_without_snapshot`) until a version with one is published.",
    )


class IntegratorAccountRefOutput(serializers.Serializer):
    key = serializers.SlugField(
        help_text="The integrator.io account the tenant lives on, for good."
    )
    region = serializers.ChoiceField(
        choices=IntegratorRegion.choices, help_text="integrator.io's region of that account."
    )


class ConnectionHealthOutput(serializers.Serializer):
    slot = serializers.CharField(help_text="The template's connection slot.")
    label = serializers.CharField(help_text="The slot's label, as the form shows it.")
    connection_type = serializers.CharField()
    status = serializers.ChoiceField(
        choices=ConnectionStatus.choices,
        help_text="`ok`: the saved connection worked at its last test (`last_ping_at`). "
        "`failed`: it failed its last test (`last_ping_error` says why), or no connection was "
        "ever saved for the slot and the last attempt failed. `missing`: there is none. "
        "Credentials refused for a slot that works change nothing here.",
    )
    connection_id = serializers.CharField(
        allow_null=True,
        help_text="The connection in integrator.io; null while there is none.",
    )
    last_ping_at = serializers.DateTimeField(
        allow_null=True, help_text="When the slot's connection was last tested."
    )
    last_ping_error = serializers.CharField(
        allow_null=True, help_text="Why the last test failed; null when it worked."
    )
    fields = serializers.DictField(help_text="Non-secret field values only.")


class JobSummaryOutput(serializers.Serializer):
    """A provisioning job, in brief; `GET /api/v1/jobs/{id}` has its steps."""

    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=JobKind.choices)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class WaitingForIntegratorOutput(serializers.Serializer):
    """Why the tenant's current job has not run yet: integrator.io was unavailable."""

    since = serializers.DateTimeField(
        help_text="When the current job began waiting for integrator.io (its "
        "`waiting_for_integrator_since`): it keeps trying for PROVISIONING_RETRY_WINDOW_SECONDS "
        "(24 h by default) from then, without spending its attempts."
    )
    next_attempt_at = serializers.DateTimeField(
        help_text="When it tries again at the latest: it goes at once when integrator.io is "
        "back (the breaker closes)."
    )
    integrator = IntegratorStatusOutput(
        help_text="The circuit breaker of the tenant's integrator.io account, as in "
        "`GET /api/v1/integrator/status`: `open` or `half_open` while integrator.io is "
        "failing (`episode` is the outage of the `integrator.unavailable` webhook), `closed` "
        "once it answers again."
    )


def _waiting_output(waiting: dict | None) -> dict | None:
    if waiting is None:
        return None
    status = waiting["integrator"]
    return {
        "since": datetime_output(waiting["since"]),
        "next_attempt_at": datetime_output(waiting["next_attempt_at"]),
        "integrator": {
            "state": status.state,
            "since": datetime_output(status.since),
            "failures": status.failures,
            "next_probe_at": datetime_output(status.next_probe_at),
            "episode": status.episode,
        },
    }


def job_summary(job: dict | None) -> dict | None:
    if job is None:
        return None
    return {
        "id": str(job["id"]),
        "kind": job["kind"],
        "status": job["status"],
        "created_at": datetime_output(job["created_at"]),
        "finished_at": datetime_output(job["finished_at"]),
    }


def datetime_output(value: datetime | None) -> str | None:
    # What DRF's DateTimeField gives with USE_TZ and UTC, at a tenth of the cost.
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _overlay(base: dict, override: dict) -> dict:
    """deep_merge for output only: new dicts along merged paths, values shared, no copying
    (the result is rendered at once and never changed)."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        merged[key] = (
            _overlay(current, value)
            if isinstance(value, dict) and isinstance(current, dict)
            else value
        )
    return merged


class TenantOutput(serializers.Serializer):
    """The one-call status view of a tenant."""

    external_id = serializers.CharField()
    incarnation = serializers.IntegerField(
        help_text="1 for the first registration of this external_id; one more each time a "
        "deprovisioned tenant is registered again (its earlier jobs and runs are history)."
    )
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=TenantStatus.choices,
        help_text="`awaiting_credentials`: some slot has no working connection, nothing was "
        "built. `provisioning`: a provision was asked for (by itself when the last slot works) "
        "or a job is building it (a repair or an upgrade of a live integration leaves it "
        "`active` or `degraded` while it works). `active`: the integration is built and "
        "running. `degraded`: built, but something is wrong (a flow failing its last runs, a "
        "connection failing its check, or a job that failed on a live integration: see "
        "`last_error`). `failed`: building failed (see `last_error`): retry the job or fix the "
        "credentials. `deprovisioning`, `deprovisioned`: being removed, removed (registering "
        "the external_id again makes a new incarnation).",
    )
    status_changed_at = serializers.DateTimeField(help_text="When `status` last changed.")
    template = TemplateRefOutput()
    integrator_account = IntegratorAccountRefOutput()
    integration_id = serializers.CharField(
        allow_null=True,
        help_text="The tenant's integration in integrator.io; null until it is built, and "
        "again once it is deprovisioned.",
    )
    settings = serializers.DictField(help_text="Effective settings: template defaults + overrides.")
    settings_overrides = serializers.DictField(help_text="Only what the tenant set itself.")
    allowed_origins = serializers.ListField(
        child=serializers.CharField(),
        help_text="The host app's origins that may embed the connect pages in an iframe.",
    )
    connections = ConnectionHealthOutput(many=True)
    ready = serializers.BooleanField(help_text="Every connection slot has a working connection.")
    current_job = JobSummaryOutput(
        allow_null=True, help_text="The job under way (queued or running); null when none is."
    )
    last_job = JobSummaryOutput(
        allow_null=True,
        help_text="The newest finished job (succeeded, failed or canceled); null before the "
        "first ends. `GET /api/v1/jobs/{id}` has its steps.",
    )
    last_error = serializers.CharField(
        allow_null=True,
        help_text="Why the tenant is `failed` or `degraded` (or why its last job failed where "
        "the status cannot say so, as a failed deprovision); null when nothing is wrong.",
    )
    waiting_for_integrator = WaitingForIntegratorOutput(
        allow_null=True,
        help_text="Set while the current job waits out integrator.io being unavailable (an "
        "outage of the tenant's integrator.io account): since when, its next try, and the "
        "account's circuit breaker. Null otherwise. Read from this deployment's breaker, never "
        "by calling integrator.io.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, view):
        # `view` is a tenant view from tenants.selectors (rows, not models). Built by hand:
        # this runs for every row of the list, and the generic field-by-field path costs
        # several times more for the same output.
        connections = [
            {**item, "last_ping_at": datetime_output(item["last_ping_at"])}
            for item in tenant_connection_health(
                slots=view["slots"], connections=view["connections"]
            )
        ]
        return {
            "external_id": view["external_id"],
            "incarnation": view["incarnation"],
            "name": view["name"],
            "status": view["status"],
            "status_changed_at": datetime_output(view["status_changed_at"]),
            "template": {
                "key": view["template__key"],
                "name": view["template__name"],
                "version": view["template__version"],
                "pinned": view["version_pinned"],
                # A tenant being removed moves to no version: nothing to offer it.
                "upgrade_available": None
                if view["status"] in GONE_STATUSES
                else version_order.upgrade_available(
                    latest=view["template__latest_version"], current=view["template__version"]
                ),
            },
            "integrator_account": {
                "key": view["account__key"],
                "region": view["account__region"],
            },
            "integration_id": view["integration_id"] or None,
            "settings": _overlay(view["settings_defaults"], view["settings"]),
            "settings_overrides": view["settings"],
            "allowed_origins": view["allowed_origins"],
            "connections": connections,
            "ready": bool(connections) and all(c["status"] == "ok" for c in connections),
            "current_job": job_summary(view["current_job"]),
            "last_job": job_summary(view["last_job"]),
            "last_error": view["last_error"] or None,
            "waiting_for_integrator": _waiting_output(view["waiting_for_integrator"]),
            "created_at": datetime_output(view["created_at"]),
            "updated_at": datetime_output(view["updated_at"]),
        }

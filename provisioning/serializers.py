"""Output shapes of jobs, shared by the API and the credential forms' status page."""

from rest_framework import serializers

from provisioning.models import Job, JobKind, JobOrigin, JobStatus, JobStep, StepStatus

_datetime = serializers.DateTimeField()


def _dt(value):
    return None if value is None else _datetime.to_representation(value)


def _seconds(start, end):
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class StepOutput(serializers.Serializer):
    name = serializers.CharField()
    position = serializers.IntegerField()
    status = serializers.ChoiceField(choices=StepStatus.choices)
    attempts = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    api_calls = serializers.IntegerField(help_text="integrator.io calls made, retries included.")
    output = serializers.DictField(help_text="Ids created or adopted, and what changed.")
    error = ErrorOutput(allow_null=True)

    def to_representation(self, step: JobStep):
        return {
            "name": step.name,
            "position": step.position,
            "status": step.status,
            "attempts": step.attempts,
            "started_at": _dt(step.started_at),
            "finished_at": _dt(step.finished_at),
            "duration_seconds": _seconds(step.started_at, step.finished_at),
            "api_calls": getattr(step, "api_call_count", None),
            "output": step.output,
            "error": _error(step.error_code, step.error_message),
        }


class JobOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tenant = serializers.CharField(help_text="The tenant's external_id.")
    incarnation = serializers.IntegerField(
        help_text="The incarnation of the tenant the job belongs to: a tenant deprovisioned "
        "and registered again under the same external_id is a new incarnation, and the "
        "earlier one's jobs stay as its history (the tenant's `incarnation` is the current one)."
    )
    kind = serializers.ChoiceField(choices=JobKind.choices)
    target_version = serializers.CharField(
        allow_null=True,
        help_text="The template version an upgrade job moves the tenant to (a rollout's, its "
        "rollback's, or one tenant's upgrade); null for the other kinds.",
    )
    status = serializers.ChoiceField(choices=JobStatus.choices)
    requested_by = serializers.ChoiceField(choices=JobOrigin.choices)
    attempts = serializers.IntegerField(
        help_text="Runs that count against PROVISIONING_MAX_ATTEMPTS (8 by default): runs "
        "postponed because integrator.io was unavailable are `outage_retries` instead."
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When a queued job (e.g. one waiting to retry) runs next."
    )
    waiting_for_integrator_since = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "While integrator.io is unavailable a job stays queued and tries again with backoff "
            "for PROVISIONING_RETRY_WINDOW_SECONDS (24 h by default) from this time, without "
            "spending its attempts; null when it never had to wait."
        ),
    )
    outage_retries = serializers.IntegerField(
        help_text="Runs postponed because integrator.io was unavailable (not counted as attempts)."
    )
    api_calls = serializers.IntegerField()
    api_call_errors = serializers.IntegerField(help_text="Calls that got no answer or a 4xx/5xx.")
    error = ErrorOutput(
        allow_null=True, help_text="Why it failed, or why the last attempt did (while retrying)."
    )

    def to_representation(self, job: Job):
        return {
            "id": str(job.pk),
            "tenant": job.tenant.external_id,
            "incarnation": job.tenant.incarnation,
            "kind": job.kind,
            "target_version": _target_version(job),
            "status": job.status,
            "requested_by": job.requested_by,
            "attempts": job.attempts_spent,
            "created_at": _dt(job.created_at),
            "started_at": _dt(job.started_at),
            "finished_at": _dt(job.finished_at),
            "duration_seconds": _seconds(job.started_at, job.finished_at),
            "next_attempt_at": _dt(job.due_at) if job.status == JobStatus.QUEUED else None,
            "waiting_for_integrator_since": _dt(job.waiting_since),
            "outage_retries": job.outage_retries,
            "api_calls": getattr(job, "api_call_count", None),
            "api_call_errors": getattr(job, "api_call_error_count", None),
            "error": _error(job.error_code, job.error_message),
        }


class JobDetailOutput(JobOutput):
    steps = StepOutput(many=True)

    def to_representation(self, job: Job):
        return {
            **super().to_representation(job),
            "steps": [StepOutput().to_representation(step) for step in job.steps.all()],
        }


def _target_version(job: Job) -> str | None:
    if job.target_version_id is None:
        return None
    number = getattr(job, "target_version_number", None)
    return number if number is not None else job.target_version.version


def _error(code: str, message: str) -> dict | None:
    return {"code": code, "message": message} if code or message else None

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"

    def ready(self):
        from core import metrics
        from core.integrator_outage import integrator_availability_changed
        from provisioning.models import JobKind
        from provisioning.receivers import jobs_resume_on_recovery

        metrics.series_start_at_zero(job_kinds=JobKind.values)

        integrator_availability_changed.connect(
            jobs_resume_on_recovery, dispatch_uid="provisioning.jobs_resume_on_recovery"
        )

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"

    def ready(self):
        from core.integrator_outage import integrator_availability_changed
        from provisioning.receivers import jobs_resume_on_recovery

        integrator_availability_changed.connect(
            jobs_resume_on_recovery, dispatch_uid="provisioning.jobs_resume_on_recovery"
        )

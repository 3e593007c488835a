from django.apps import AppConfig


class RolloutsConfig(AppConfig):
    """Moving a template's tenants to another version in waves (canary first), halting when a
    wave fails too often, and moving them back: only through provisioning's upgrade jobs."""

    name = "rollouts"
    verbose_name = "Rollouts of template versions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from provisioning.signals import job_retried
        from rollouts.receivers import job_retried_record

        job_retried.connect(job_retried_record, dispatch_uid="rollouts.job_retried")

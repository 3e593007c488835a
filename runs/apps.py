from django.apps import AppConfig


class RunsConfig(AppConfig):
    """A mirror of each tenant's flow runs in integrator.io, and the health rolled up from
    them and from scheduled connection checks."""

    name = "runs"
    verbose_name = "Runs and health"
    default_auto_field = "django.db.models.BigAutoField"

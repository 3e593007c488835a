from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Registers the sandbox only so that `manage.py runsandbox` is found.

    The sandbox itself is a separate process with its own state; it has no models and imports
    nothing from the service.
    """

    name = "sandbox"
    verbose_name = "integrator.io sandbox"

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Pieces every other app of the service shares: the deployment's identity, its Redis
    namespace, the marks it leaves on what it writes to integrator.io, and encryption at rest."""

    name = "core"
    verbose_name = "Deployment"

    def ready(self) -> None:
        from django.conf import settings

        # Every process (web, worker, beat, manage.py) loads the apps once, before it serves a
        # request or runs a task: the one place to install tracing for all of them.
        if settings.OTEL_ENABLED:
            from core.tracing import tracing_install

            tracing_install()

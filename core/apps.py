from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Pieces every other app of the service shares: the deployment's identity, its Redis
    namespace, the marks it leaves on what it writes to integrator.io, the integrator.io
    accounts, encryption at rest, and the ops roles of the admin."""

    name = "core"
    verbose_name = "Deployment"

    def ready(self):
        from core import checks  # noqa: F401  (registers the start-up check of account tokens)
        from core.ops_roles import ops_roles_after_migrate

        post_migrate.connect(
            ops_roles_after_migrate, sender=self, dispatch_uid="core.ops_roles_after_migrate"
        )
        # Every process (web, worker, beat, manage.py) loads the apps once, before it serves a
        # request or runs a task: the one place to install tracing for all of them.
        if settings.OTEL_ENABLED:
            from core.tracing import tracing_install

            tracing_install()

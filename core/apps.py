from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Pieces every other app of the service shares: the deployment's identity, its Redis
    namespace, the marks it leaves on what it writes to integrator.io, the integrator.io
    accounts, and encryption at rest."""

    name = "core"
    verbose_name = "Deployment"

    def ready(self):
        from core import checks  # noqa: F401  (registers the start-up check of account tokens)

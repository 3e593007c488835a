from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Pieces every other app of the service shares: the deployment's identity, its Redis
    namespace, the marks it leaves on what it writes to integrator.io, and encryption at rest."""

    name = "core"
    verbose_name = "Deployment"

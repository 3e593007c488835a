from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed what: one append-only row per change, whoever made it (an API key, an ops
    user in the admin, an end customer through a connect link, a management command, or the
    service itself in a Celery task)."""

    name = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Every Celery task acts as the system, named after the task (audit/context.py).
        from audit import context
        from audit.deployment import deployment_receivers_connect
        from audit.integrator_accounts import integrator_account_receivers_connect

        context.celery_signals_connect()
        # integrator.io accounts are core's, below the audit log: it announces their saves.
        integrator_account_receivers_connect()
        deployment_receivers_connect()

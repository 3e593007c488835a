from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed event notifications to the host app: endpoints, an outbox of events written in
    the same transaction as the change they report, and deliveries with retries."""

    name = "webhooks"
    verbose_name = "Webhooks to the host app"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core.integrator_outage import integrator_availability_changed
        from tenants.signals import tenant_status_changed
        from webhooks.receivers import (
            integrator_availability_event_on_change,
            tenant_status_event_on_change,
        )

        tenant_status_changed.connect(
            tenant_status_event_on_change, dispatch_uid="webhooks.tenant_status_event"
        )
        integrator_availability_changed.connect(
            integrator_availability_event_on_change,
            dispatch_uid="webhooks.integrator_availability_event",
        )

from django.apps import AppConfig


class RunsConfig(AppConfig):
    """A mirror of each tenant's flow runs in integrator.io, and the health rolled up from
    them and from scheduled connection checks."""

    name = "runs"
    verbose_name = "Runs and health"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from provisioning.signals import (
            connection_saved,
            drift_changed,
            tenant_flows_observed,
            tenant_held_degraded,
        )
        from runs.receivers import (
            connection_saved_record,
            drift_changed_record,
            flows_observed_record,
            tenant_deprovisioned_record,
            tenant_held_degraded_reasons,
        )
        from tenants.signals import tenant_status_changed

        tenant_flows_observed.connect(flows_observed_record, dispatch_uid="runs.flows_observed")
        connection_saved.connect(connection_saved_record, dispatch_uid="runs.connection_saved")
        drift_changed.connect(drift_changed_record, dispatch_uid="runs.drift_changed")
        tenant_held_degraded.connect(
            tenant_held_degraded_reasons, dispatch_uid="runs.tenant_held_degraded"
        )
        tenant_status_changed.connect(
            tenant_deprovisioned_record, dispatch_uid="runs.tenant_deprovisioned"
        )

"""Close the drift episodes left open by tenants deprovisioned before a deprovision closed
them (provisioning.drift_clear.drift_close_deprovisioned). Nothing checks a deprovisioned
tenant again, so such an episode said "drifted" (the API, the admin, eis_tenants_drifted) for
ever. Each is closed when its tenant became deprovisioned (`status_changed_at`), never before
the last check that saw it. A tenant still being deprovisioned is left to its job, which
closes the episode when it ends. Reversing it changes nothing: those episodes did end."""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Greatest


def deprovisioned_drift_close(apps, schema_editor):
    Drift = apps.get_model("provisioning", "Drift")
    Tenant = apps.get_model("tenants", "Tenant")
    gone_at = Tenant.objects.filter(pk=OuterRef("tenant_id")).values("status_changed_at")[:1]
    Drift.objects.filter(cleared_at=None, tenant__status="deprovisioned").update(
        cleared_at=Greatest(Subquery(gone_at), F("last_seen_at"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0008_job_origin_rollout"),
        ("tenants", "0013_template_translations"),
    ]

    operations = [
        migrations.RunPython(deprovisioned_drift_close, migrations.RunPython.noop, elidable=True),
    ]

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def incarnations_fill(apps, schema_editor):
    """Events recorded before they kept their tenant's incarnation: the one of the tenant row
    they point at (an event whose row is gone keeps none)."""
    Event = apps.get_model("webhooks", "Event")
    Tenant = apps.get_model("tenants", "Tenant")
    Event.objects.filter(tenant__isnull=False).update(
        tenant_incarnation=Subquery(
            Tenant.objects.filter(pk=OuterRef("tenant_id")).values("incarnation")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0013_template_translations"),
        ("webhooks", "0006_endpoint_previous_secret"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="tenant_incarnation",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(incarnations_fill, migrations.RunPython.noop, elidable=True),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):
    """Deliveries take the one lease scheme jobs use (core.leases): a generation, not a token."""

    dependencies = [("webhooks", "0002_alter_event_event_type")]

    operations = [
        migrations.RenameField(
            model_name="webhookdelivery", old_name="leased_until", new_name="lease_expires_at"
        ),
        migrations.RemoveField(model_name="webhookdelivery", name="lease_token"),
        migrations.AddField(
            model_name="webhookdelivery",
            name="lease_generation",
            field=models.PositiveIntegerField(default=0),
        ),
    ]

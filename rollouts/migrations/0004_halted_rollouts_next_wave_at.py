"""A halted rollout queues nothing until a person resumes it (the next wave is then due at
once), so it names no time for a next wave; rollouts halted before that was so still carry the
end of their last pause, which the API and the admin showed: cleared."""

from django.db import migrations


def halted_next_wave_at_clear(apps, schema_editor):
    Rollout = apps.get_model("rollouts", "Rollout")
    Rollout.objects.filter(status="halted").exclude(next_wave_at=None).update(next_wave_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("rollouts", "0003_rollout_tenant_not_started"),
    ]

    operations = [
        migrations.RunPython(halted_next_wave_at_clear, migrations.RunPython.noop),
    ]

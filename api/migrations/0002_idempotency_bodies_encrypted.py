from django.db import migrations


def bodies_encrypt(apps, schema_editor):
    # Responses stored before encryption at rest: encrypted in place, so that their replays
    # keep working and nothing they carry stays readable.
    from core.encryption import encrypt

    IdempotencyRecord = apps.get_model("api", "IdempotencyRecord")
    stored = IdempotencyRecord.objects.filter(response_status__isnull=False)
    for record in stored.exclude(response_body__startswith="v1.").iterator():
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            response_body=encrypt(record.response_body, context=f"idempotency-response:{record.pk}")
        )


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunPython(bodies_encrypt, migrations.RunPython.noop)]

"""OAuth clients name their token URL. A record made before had none: it takes the token URL
its app's templates name, when they all name one (what its secret was already sent to), so that
the deployment's OAuth keeps working; otherwise it stays empty and an admin sets it."""

from django.db import migrations, models


def token_urls_from_templates(apps, schema_editor):
    OAuthClientRecord = apps.get_model("tenants", "OAuthClientRecord")
    TemplateVersion = apps.get_model("tenants", "TemplateVersion")
    named: dict[str, set[str]] = {}
    for slots in TemplateVersion.objects.values_list("slots", flat=True):
        for slot in slots or []:
            oauth = slot.get("oauth") if isinstance(slot, dict) else None
            if isinstance(oauth, dict) and oauth.get("client") and oauth.get("token_url"):
                named.setdefault(oauth["client"], set()).add(oauth["token_url"])
    for record in OAuthClientRecord.objects.filter(token_url=""):
        urls = named.get(record.provider_key, set())
        if len(urls) == 1:
            record.token_url = urls.pop()
            record.save(update_fields=["token_url"])


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0014_call_count_purpose_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="oauthclientrecord",
            name="token_url",
            field=models.URLField(blank=True, max_length=2000),
        ),
        migrations.RunPython(token_urls_from_templates, migrations.RunPython.noop),
    ]

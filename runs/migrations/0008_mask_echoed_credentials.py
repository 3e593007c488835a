"""Mask the credentials that connection checks kept from before they masked them: an app that
repeats, in its refusal, the credential it refused ("invalid key: Bearer sk-…") had it kept in
clear in the connection's `last_ping_error`, the tenant's `last_error`, its health's reasons
and offline connections, and the events that carried them (`connection.failed`,
`tenant.degraded`, `tenant.failed`), all of which the API, the admin and the webhooks show.
Every text goes through the masking of the log lines (core.redaction.redact_text, a pure
function: masking a masked text changes nothing). Reversing it changes nothing: a masked secret
is not brought back."""

from django.db import migrations

from core.redaction import redact_text

_BATCH = 500
_EVENT_TYPES = ("connection.failed", "tenant.degraded", "tenant.failed")


def _masked(value):
    """`value` with every text in it masked (lists and objects walked)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def _mask_rows(model, fields, queryset=None):
    rows = []
    queryset = model.objects.all() if queryset is None else queryset
    for row in queryset.only("pk", *fields).iterator(chunk_size=_BATCH):
        changed = False
        for field in fields:
            before = getattr(row, field)
            after = _masked(before)
            if after != before:
                setattr(row, field, after)
                changed = True
        if changed:
            rows.append(row)
    model.objects.bulk_update(rows, fields, batch_size=_BATCH)


def echoed_credentials_mask(apps, schema_editor):
    _mask_rows(apps.get_model("tenants", "TenantConnection"), ["last_ping_error"])
    _mask_rows(apps.get_model("tenants", "Tenant"), ["last_error"])
    _mask_rows(apps.get_model("runs", "TenantHealth"), ["reasons", "offline_connections"])
    Event = apps.get_model("webhooks", "Event")
    _mask_rows(Event, ["data"], Event.objects.filter(event_type__in=_EVENT_TYPES))


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0007_flow_run_error_trace_key"),
        ("tenants", "0016_call_count_purpose_credentials"),
        ("webhooks", "0010_event_list_indexes"),
    ]

    operations = [
        migrations.RunPython(echoed_credentials_mask, migrations.RunPython.noop, elidable=True),
    ]

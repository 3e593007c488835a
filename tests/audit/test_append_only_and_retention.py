"""The audit log is append-only (the model, its queryset and, on PostgreSQL, a trigger refuse
changes and deletes), and the retention prune is the one deletion: in bulk, by age."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.context import Actor, acting_as
from audit.models import AppendOnlyError, AuditEvent
from audit.retention import audit_events_prune
from audit.services import Target, audit_record, changes_between
from audit.tasks import audit_events_prune_task

pytestmark = pytest.mark.django_db


def _event(**kwargs) -> AuditEvent:
    with acting_as(Actor.system("test")):
        return audit_record(action="tenant.update", target=Target("tenant", "t1", "acme"), **kwargs)


def test_it_refuses_to_change_or_delete_an_event_through_the_orm():
    event = _event(before={"name": "a"}, after={"name": "b"})

    event.action = "tenant.create"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x.y")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "tenant.update"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'x.y' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_delete_an_event(statement):
    event = _event()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])

    assert AuditEvent.objects.get(pk=event.pk).action == "tenant.update"


def test_the_prune_deletes_only_events_older_than_the_retention(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    fresh = [_event() for _ in range(3)]
    kept = _event()
    # Backdated as the database sees it (the rows cannot be updated, even by a test: they are
    # inserted with their time instead).
    backdated = [
        AuditEvent.objects.create(
            created_at=now - timedelta(days=31),
            actor_type="system",
            action="tenant.update",
            target_type="tenant",
            target_id=str(event.pk),
        )
        for event in fresh
    ]
    recent = AuditEvent.objects.create(
        created_at=now - timedelta(days=29),
        actor_type="system",
        action="tenant.update",
        target_type="tenant",
        target_id="recent",
    )

    deleted = audit_events_prune_task()

    assert deleted == 3
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert remaining == {*(e.pk for e in fresh), kept.pk, recent.pk}
    assert not remaining & {e.pk for e in backdated}
    assert audit_events_prune() == 0, "a second run finds nothing more"


def test_the_prune_runs_daily_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-events-prune"]
    assert entry["task"] == audit_events_prune_task.name == "audit.events_prune"
    assert entry["schedule"] == 86400.0


def test_only_what_changed_is_kept_with_secrets_masked():
    changes = changes_between(
        {"name": "a", "region": "eu", "api_token": "old-token", "url": "https://x/?token=abc"},
        {"name": "a", "region": "us", "api_token": "new-token", "url": "https://x/?token=def"},
    )

    assert changes == {
        "region": {"before": "eu", "after": "us"},
        "api_token": {"before": "[REDACTED]", "after": "[REDACTED] (changed)"},
        "url": {"before": "https://x/?token=[REDACTED]", "after": "https://x/?token=[REDACTED]"},
    }


def test_a_secret_in_a_urls_path_is_masked():
    slack = "https://hooks.slack.com/services/T000/B000/SLACKPATHSECRET"
    readable = "https://app.example.com/webhooks/provisioning-events"

    changes = changes_between(
        {},
        {"url": slack, "token_url": "https://u:pw@idp/token", "callback_url": readable},
    )

    assert changes["url"]["after"] == (
        "https://hooks.slack.com/services/[REDACTED]/[REDACTED]/[REDACTED]"
    )
    assert changes["callback_url"]["after"] == readable
    assert changes["token_url"]["after"] == "https://u:[REDACTED]@idp/token"


def test_when_a_secret_changed_is_shown_while_the_secret_stays_masked():
    from webhooks import services

    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    before = endpoint.secret_rotated_at
    old_salt = endpoint.secret_salt

    rotated = services.endpoint_secret_rotate(endpoint=endpoint)

    event = AuditEvent.objects.get(action="webhook_endpoint.rotate_secret")
    assert event.changes["secret"] == {"before": "[REDACTED]", "after": "[REDACTED] (changed)"}
    assert event.changes["secret_rotated_at"] == {
        "before": DjangoJSONEncoder().default(before),
        "after": DjangoJSONEncoder().default(rotated.endpoint.secret_rotated_at),
    }
    assert old_salt not in str(event.changes)
    assert rotated.endpoint.secret_salt not in str(event.changes)


def test_nested_secrets_in_settings_are_masked():
    changes = changes_between(
        {"settings": {"erp": {"password": "hunter2", "region": "eu"}}},
        {"settings": {"erp": {"password": "hunter3", "region": "us"}}},
    )

    assert "hunter" not in str(changes)
    assert changes["settings"]["after"]["erp"] == {"password": "[REDACTED]", "region": "us"}

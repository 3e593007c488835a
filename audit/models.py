"""The audit log: one row per change, never updated, deleted only by age (`audit.retention`).

Append-only twice over: the model and its queryset refuse updates and deletes in Python, and on
PostgreSQL a trigger (migration 0001) refuses UPDATE and DELETE of a row unless the
transaction has set `audit.prune` (which only the retention prune does, with SET LOCAL). The
trigger guards against the service's own mistakes and an ORM `delete()` cascading from
elsewhere, not against someone holding the database's credentials: they could drop it.
"""

from django.db import models
from django.utils import timezone


class ActorType(models.TextChoices):
    API_KEY = "api_key", "API key"
    USER = "user", "Admin user"
    CONNECT_LINK = "connect_link", "End customer (connect link)"
    SYSTEM = "system", "System"
    COMMAND = "command", "Management command"
    ANONYMOUS = "anonymous", "Anonymous"


class AppendOnlyError(Exception):
    """An audit event was about to be changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are never changed.")

    def delete(self):
        raise AppendOnlyError("Audit events are deleted only by age (audit.retention).")


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    # The key's prefix, the user's id, the link's id, the task's or command's name.
    actor_id = models.CharField(max_length=200, blank=True)
    # The key's name, the username, the link's tenant, the OS user who ran a command.
    actor_name = models.CharField(max_length=200, blank=True)
    # "<target type>.<verb>", e.g. tenant.update, webhook_endpoint.rotate_secret.
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=200)
    # The tenant's external id, when the change concerns one: most questions are per tenant.
    tenant = models.CharField(max_length=128, blank=True)
    # {field: {"before": ..., "after": ...}} for each field that changed, secrets masked.
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_newest_first"),
            models.Index(fields=["action", "-created_at"], name="audit_action"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant"),
            # What one request changed (the API's `request_id` filter): a log line names the
            # request. Partial: the service's own tasks and commands record no request.
            models.Index(
                fields=["request_id"],
                name="audit_request",
                condition=~models.Q(request_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id} by {self.actor_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are deleted only by age (audit.retention).")

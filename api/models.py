from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import APIKey


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an `Idempotency-Key` header.

    Keys are scoped to the API key that sent them. While the first request runs, the record
    has no `response_status`; a duplicate arriving meanwhile is told to retry later. Records
    are replayed for `api.idempotency.REPLAY_WINDOW` and purged after it.
    """

    api_key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2000)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    locked_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_per_api_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"

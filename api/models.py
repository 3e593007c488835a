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
    # The first response's Location (a 201's new resource, a 202's job), replayed with it.
    response_location = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    locked_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_per_api_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class ApiKeyGrant(models.Model):
    """What an API key (the library's `APIKey` row, which holds its hash, name, expiry and
    revocation) may do, and when it was last used.

    One row per key, made with it (`api.api_keys.api_key_create`). A key without a row (made
    by calling the library directly) has no scopes: access is granted, never assumed. The
    migration that introduced scopes gave every key that existed then all of them.
    """

    api_key = models.OneToOneField(
        APIKey, on_delete=models.CASCADE, primary_key=True, related_name="grant"
    )
    # A list of `api.scopes.Scope` values. JSON rather than an array column: the tenant read
    # model also runs on SQLite (tests/api/test_tenant_status_view_sqlite.py).
    scopes = models.JSONField(default=list, blank=True)
    # Written at most once a minute per key (api.authentication), never once per request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key grant"

    def __str__(self) -> str:
        return f"{self.api_key.name}: {' '.join(self.scopes) or 'no scopes'}"

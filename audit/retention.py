"""How long audit events are kept (AUDIT_RETENTION_DAYS), and the prune: the only way an
event is ever deleted, in bulk and by age."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent


def audit_events_prune(*, older_than: timedelta | None = None) -> int:
    """Delete the events older than the retention period; returns how many.

    One statement under `SET LOCAL audit.prune = 'on'`, the one setting the table's trigger
    lets a DELETE through with (audit/models.py), and only for this transaction.
    """
    if older_than is None:
        older_than = timedelta(days=settings.AUDIT_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    table = AuditEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL audit.prune = 'on'")
        cursor.execute(
            f"DELETE FROM {table} WHERE created_at < %s",  # noqa: S608 (our own table name)
            [connection.ops.adapt_datetimefield_value(cutoff)],
        )
        return cursor.rowcount

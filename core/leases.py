"""One lease scheme for every row a worker takes for a while (a provisioning job, a webhook
delivery): who holds it until when, and a fence that keeps a worker who lost it from writing.

A row has `lease_generation` (bumped by every take) and `lease_expires_at` (null: free).
Taking is a compare-and-swap: one UPDATE that matches only while the row is free (or its lease
ran out) and bumps the generation; exactly one of several takers changes the row. The taker
then makes every later write conditional on the generation it took (`lease_held`), so that a
worker that stalled past its lease, and was replaced, changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import F, Q, QuerySet


class Leased(models.Model):
    """The lease's two columns, for a model whose rows workers take."""

    lease_generation = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def lease_free(*, now: datetime) -> Q:
    """Rows nobody holds: never taken, released, or whose lease ran out."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def lease_take(rows: QuerySet, *, now: datetime, until: datetime, **also) -> int | None:
    """Take the one row `rows` selects if it is free; the generation now held, or None when
    someone else holds it (or it does not match). `also` are more columns set in the same
    UPDATE (e.g. an attempt counter)."""
    taken = rows.filter(lease_free(now=now)).update(
        lease_generation=F("lease_generation") + 1, lease_expires_at=until, **also
    )
    if taken != 1:
        return None
    return rows.values_list("lease_generation", flat=True).get()


def lease_held(rows: QuerySet, *, generation: int) -> QuerySet:
    """`rows` as long as `generation` still holds them: every write of the holder goes
    through it, and changes nothing once the lease was lost."""
    return rows.filter(lease_generation=generation)

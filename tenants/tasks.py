"""Celery tasks of tenants."""

from __future__ import annotations

from celery import shared_task

from tenants.call_costs import call_counts_purge


@shared_task(name="tenants.call_counts_purge", ignore_result=True)
def call_counts_purge_task() -> int:
    """Beat, daily: forget integrator.io call counts older than 90 days."""
    return call_counts_purge()

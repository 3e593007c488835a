from celery import shared_task

from api.idempotency import idempotency_records_purge


@shared_task(ignore_result=True)
def idempotency_records_purge_task() -> int:
    """Delete stored responses older than the replay window (hourly, from beat)."""
    return idempotency_records_purge()

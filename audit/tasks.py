from celery import shared_task

from audit.retention import audit_events_prune


@shared_task(name="audit.events_prune", ignore_result=True)
def audit_events_prune_task() -> int:
    """Delete audit events past AUDIT_RETENTION_DAYS (daily, from beat). Idempotent: a
    second run finds nothing more to delete."""
    return audit_events_prune()

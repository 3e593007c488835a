from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from audit.models import AuditEvent


def audit_event_list(
    *,
    actor_type: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    tenant: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first, narrowed by the filters given. `action` ending with a dot
    (`tenant.`) matches every action on that target type; `actor` matches the actor's id or
    name exactly (a key's prefix or name, a username, a link id, a task's name)."""
    events = AuditEvent.objects.all()
    if actor_type is not None:
        events = events.filter(actor_type=actor_type)
    if actor is not None:
        events = events.filter(Q(actor_id=actor) | Q(actor_name=actor))
    if action is not None:
        events = (
            events.filter(action__startswith=action)
            if action.endswith(".")
            else events.filter(action=action)
        )
    if target_type is not None:
        events = events.filter(target_type=target_type)
    if target_id is not None:
        events = events.filter(target_id=target_id)
    if tenant is not None:
        events = events.filter(tenant=tenant)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.order_by("-created_at", "-id")

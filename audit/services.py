"""Recording a change: `audit_record`, called by the one service of each use case, inside its
transaction (a change that rolls back leaves no event, and an event is never missing for a
change that committed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from audit.context import actor_current
from audit.models import AuditEvent
from core import log_context
from core.redaction import REDACTED, redact_url, redact_value


@dataclass(frozen=True)
class Target:
    type: str
    id: str
    tenant: str = ""


def target_of(obj: Any, *, tenant: str = "") -> Target:
    """A model instance as a target: its model's name and primary key; a tenant's own
    external id when it is one."""
    if isinstance(obj, Target):
        return obj
    external_id = getattr(obj, "external_id", None)
    if obj.__class__.__name__ == "Tenant" and isinstance(external_id, str):
        tenant = tenant or external_id
    return Target(type=obj._meta.model_name, id=str(obj.pk), tenant=tenant)


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of `obj`, for `before` and `after`."""
    return {name: getattr(obj, name) for name in fields}


def _plain(value: Any) -> Any:
    # Dates, UUIDs and decimals as the API shows them.
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _masked(value: Any, name: str) -> Any:
    # A URL field gets the URL rules (a secret in its path too): the admin shows the same.
    if isinstance(value, str) and (name == "url" or name.endswith("_url")):
        return redact_url(value)
    return redact_value(value, key=name)


def changes_between(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict:
    """{field: {"before": b, "after": a}} for each field whose value differs; secrets (by
    field name, and inside values, see core.redaction) masked."""
    before, after = _plain(dict(before or {})), _plain(dict(after or {}))
    changes = {}
    for name in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        masked_old, masked_new = _masked(old, name), _masked(new, name)
        if masked_old == masked_new == REDACTED:
            # A secret changed: say so without showing either value.
            masked_old, masked_new = REDACTED, f"{REDACTED} (changed)"
        changes[name] = {"before": masked_old, "after": masked_new}
    return changes


def audit_record(
    *,
    action: str,
    target: Any,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    tenant: str = "",
) -> AuditEvent:
    """Record that the current actor (audit.context) did `action` to `target`, which went
    from `before` to `after` (only the fields that differ are kept)."""
    where = target_of(target, tenant=tenant)
    actor = actor_current()
    return AuditEvent.objects.create(
        actor_type=actor.type,
        actor_id=actor.id[:200],
        actor_name=actor.name[:200],
        action=action,
        target_type=where.type,
        target_id=where.id[:200],
        tenant=where.tenant,
        changes=changes_between(before, after),
        request_id=log_context.request_id.get() or "",
    )

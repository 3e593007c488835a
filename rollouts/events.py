"""The events a rollout sends the host app (webhooks), recorded in the driver's transaction.

Each has a dedupe key, so that a step the driver runs twice records its event once.
"""

from __future__ import annotations

from rollouts.models import Rollout, RolloutTenant
from webhooks.models import EventType
from webhooks.services import event_record, tenant_upgraded_event_record


def _rollout_data(rollout: Rollout, **extra) -> dict:
    return {
        "rollout_id": str(rollout.pk),
        "template": rollout.template.key,
        "to_version": rollout.to_version.version,
        "status": rollout.status,
        "wave": rollout.current_wave,
        "waves": rollout.wave_count,
        **extra,
    }


def rollout_started_record(rollout: Rollout, *, tenants: int) -> None:
    event_record(
        tenant=None,
        event_type=EventType.ROLLOUT_STARTED,
        data=_rollout_data(rollout, tenants=tenants, strategy=rollout.strategy),
        dedupe_key=f"rollout:{rollout.pk}:started",
    )


def rollout_halted_record(rollout: Rollout, *, failure_rate: float) -> None:
    event_record(
        tenant=None,
        event_type=EventType.ROLLOUT_HALTED,
        data=_rollout_data(rollout, reason=rollout.halt_reason, failure_rate=failure_rate),
        # A halted rollout may be resumed, and halt again at a later wave.
        dedupe_key=f"rollout:{rollout.pk}:halted:{rollout.current_wave}",
    )


def rollout_completed_record(rollout: Rollout, *, counts: dict) -> None:
    event_record(
        tenant=None,
        event_type=EventType.ROLLOUT_COMPLETED,
        data=_rollout_data(rollout, tenants=counts),
        dedupe_key=f"rollout:{rollout.pk}:completed",
    )


def rollout_aborted_record(rollout: Rollout, *, counts: dict) -> None:
    """Stopped for good by a person: without it, a host app that follows its rollouts by
    these events would show an aborted one as running forever."""
    event_record(
        tenant=None,
        event_type=EventType.ROLLOUT_ABORTED,
        data=_rollout_data(rollout, tenants=counts),
        dedupe_key=f"rollout:{rollout.pk}:aborted",
    )


def rollout_rolled_back_record(rollout: Rollout, *, counts: dict) -> None:
    """Every tenant the rollout moved is back (or left, with why): the rollback's end. A
    rolled-back rollout is never rolled back again, so once per rollout."""
    event_record(
        tenant=None,
        event_type=EventType.ROLLOUT_ROLLED_BACK,
        data=_rollout_data(rollout, tenants=counts),
        dedupe_key=f"rollout:{rollout.pk}:rolled_back",
    )


def tenant_upgraded_record(
    entry: RolloutTenant, *, job_id, from_version: str, to_version: str
) -> None:
    """The tenant's integration is on another version now (an upgrade, or moved back)."""
    tenant_upgraded_event_record(
        tenant=entry.tenant,
        job_id=job_id,
        from_version=from_version,
        to_version=to_version,
        rollout_id=entry.rollout_id,
    )

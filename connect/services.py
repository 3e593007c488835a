"""What a credential form submission does: connect the slot, then start provisioning once
every slot of the tenant is connected."""

import logging
from dataclasses import dataclass

from api.errors import ApplicationError
from provisioning.models import Job, JobOrigin
from provisioning.services import provisioning_request_when_ready
from tenants.models import Tenant
from tenants.services import tenant_connection_submit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectOutcome:
    ok: bool
    message: str = ""
    all_connected: bool = False
    job: Job | None = None


def connect_submit(*, tenant: Tenant, slot_key: str, values: dict) -> ConnectOutcome:
    """Ping and save one slot's credentials; queue provisioning when the last slot is in.

    Nothing is saved in integrator.io when the ping fails (the tenants service pings the
    would-be connection first). Raises the tenants domain errors (invalid fields, unknown
    slot, tenant gone, integrator.io unavailable) unchanged.
    """
    result = tenant_connection_submit(tenant=tenant, slot_key=slot_key, values=values)
    if not result.ok:
        return ConnectOutcome(ok=False, message=result.message)
    job = None
    if result.all_slots_ok:
        try:
            job = provisioning_request_when_ready(tenant=tenant, requested_by=JobOrigin.FORM)
        except ApplicationError as error:
            # The credentials are saved either way; the user must not be told otherwise.
            # Operators see the tenant waiting with every slot ok, and provision it.
            logger.warning("provisioning not queued after the last slot: %s", error.code)
    return ConnectOutcome(ok=True, all_connected=result.all_slots_ok, job=job)

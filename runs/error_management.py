"""Which Error Management the integrator.io account uses: the one place that decides.

Error Management 2.0 (new accounts, docs/integrator-io.md "Run errors") keeps a run's errors
per flow step (`/flows/{flowId}/{stepId}/errors`, with resolve and retry); 1.0 keeps them per
job (`/jobs/{id}/joberrors`), with neither. The API has no documented flag that says which, so:

- `INTEGRATOR_ERROR_MANAGEMENT=2` or `1` pins it (no probe);
- `auto` (the default) probes with the first run whose errors are read: its flow's first
  step's open errors. 200 is EM 2.0. A 404 there while `joberrors` of the same run answers 200
  is EM 1.0 (ASSUMPTION: an EM 1.0 account does not serve the per-step paths). Any other
  answer decides nothing and is raised. The verdict is remembered for REMEMBER_SECONDS in the
  process, per account (the client's `account_identity`: its API URL and token), and an
  account that moves to EM 2.0 is seen within the hour. A pinned value holds for every account.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from integrator.client import IntegratorClient
from integrator.errors import NotFoundError

EM1 = 1
EM2 = 2
REMEMBER_SECONDS = 3600.0

_lock = threading.Lock()
_remembered: dict[str, tuple[int, float]] = {}


def account_error_management(
    *, client: IntegratorClient, flow_id: str, step_id: str | None, job_id: str
) -> int:
    """EM1 or EM2 for the configured account, probing with this run when not yet known."""
    pinned = settings.INTEGRATOR_ERROR_MANAGEMENT
    if pinned in ("1", "2"):
        return int(pinned)
    key = client.account_identity
    with _lock:
        known = _remembered.get(key)
    if known is not None and known[1] > time.monotonic():
        return known[0]
    version = _probe(client=client, flow_id=flow_id, step_id=step_id, job_id=job_id)
    with _lock:
        _remembered[key] = (version, time.monotonic() + REMEMBER_SECONDS)
    return version


def error_management_forget() -> None:
    """Forget what was probed (tests, or after the account's Error Management changed)."""
    with _lock:
        _remembered.clear()


def _probe(*, client: IntegratorClient, flow_id: str, step_id: str | None, job_id: str) -> int:
    if step_id:
        try:
            client.list_step_errors(flow_id, step_id)
            return EM2
        except NotFoundError:
            pass
    client.list_job_errors(job_id)  # raises when neither path answers: nothing is decided
    return EM1

"""Moving a tenant's integration to another version of its template: observe, plan, apply.

Being written: until the apply side lands, an upgrade job fails here with a clear message
and changes nothing remotely.
"""

from __future__ import annotations

from provisioning.errors import StepFailed
from provisioning.steps.context import StepContext


def reconcile(ctx: StepContext) -> dict:
    raise StepFailed(
        "upgrade_unavailable", "Moving a tenant to another version is not available yet."
    )

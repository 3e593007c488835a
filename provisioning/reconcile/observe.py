"""The observed state: what integrator.io holds for a tenant's integration, read through the
client (four reads: the integration, its flows, exports and imports). No Django."""

from __future__ import annotations

from integrator.client import IntegratorClient
from integrator.errors import NotFoundError
from provisioning.reconcile.documents import flow_step_ids, marker_of, settings_without_marker
from provisioning.reconcile.state import ObservedFlow, ObservedState, ObservedStep

# The reads of one observation of an existing integration (below), for the cost estimates.
OBSERVE_CALLS = 4


def observe(client: IntegratorClient, integration_id: str | None) -> ObservedState:
    """The tenant's integration as integrator.io holds it; integration_id None in the answer
    when there is none (never made, or deleted)."""
    if not integration_id:
        return ObservedState(integration_id=None)
    try:
        integration = client.get_integration(integration_id)
        flows = client.list_integration_flows(integration_id)
        exports = client.list_integration_exports(integration_id)
        imports = client.list_integration_imports(integration_id)
    except NotFoundError:
        return ObservedState(integration_id=None)
    settings = integration.settings if isinstance(integration.settings, dict) else {}
    return ObservedState(
        integration_id=integration.id,
        tag=integration.raw.get("tag"),
        name=integration.name,
        settings=settings_without_marker(settings),
        applied_version=marker_of(settings),
        flows=tuple(
            ObservedFlow(
                id=flow.id,
                source_id=flow.source_id,
                name=flow.name,
                disabled=flow.disabled,
                schedule=flow.schedule,
                timezone=flow.timezone,
                settings=flow.raw.get("settings") or {},
                step_ids=tuple(step_id for _, step_id in flow_step_ids(flow.raw)),
                doc=flow.raw,
            )
            for flow in flows
        ),
        steps=tuple(
            ObservedStep(
                id=step.id,
                source_id=step.raw.get("_sourceId"),
                kind=kind,
                name=step.name,
                connection_id=step.connection_id,
                doc=step.raw,
            )
            for kind, resources in (("export", exports), ("import", imports))
            for step in resources
        ),
        doc=integration.raw,
    )

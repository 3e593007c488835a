"""The emulated integrator.io API under /v1: the routing table below, and one module per upstream
resource with one handler per upstream operation, named like it (`connections.py`:
`list_connections`, `create_connection`, `ping_connection_by_id`, ...).

A handler reads the request, calls the rules in `sandbox/models/` and shapes the answer. The
modules that serve them all: `crud.py` (the operations every resource shares), `listing.py`
(Link paging and projection) and `bodies.py` (JSON in and out).
"""

from aiohttp import web

from sandbox.models.state_keys import RESOURCE_TYPES
from sandbox.responses import (
    connections,
    exports_imports,
    flow_errors,
    flows,
    iclients,
    integrations,
    jobs,
    state,
    token_info,
)

ID = "{id:[^/]+}"
# A step id; never "state", whose paths (/flows/{id}/state/{key}) come later in the table.
STEP = "{step:(?!state$)[^/]+}"
RESOURCE = "{resource:" + "|".join(RESOURCE_TYPES) + "}"


def add_routes(router: web.UrlDispatcher) -> None:
    """Every route twice: North America at /v1, Europe at /eu/v1 (one process serves both
    regions; the middleware picks the account by token and refuses a token of the other
    region)."""
    routes = [
        ("GET", "/v1/tokenInfo", token_info.get_token_info),
        # Connections
        ("GET", "/v1/connections", connections.list_connections),
        ("POST", "/v1/connections", connections.create_connection),
        ("POST", "/v1/connections/ping", connections.ping_virtual_connection),
        ("GET", f"/v1/connections/{ID}", connections.get_connection),
        ("PUT", f"/v1/connections/{ID}", connections.update_connection),
        ("PATCH", f"/v1/connections/{ID}", connections.patch_connection),
        ("DELETE", f"/v1/connections/{ID}", connections.delete_connection),
        ("GET", f"/v1/connections/{ID}/ping", connections.ping_connection_by_id),
        ("POST", f"/v1/connections/{ID}/ping", connections.ping_connection_by_id),
        ("POST", f"/v1/connections/{ID}/export/pages", connections.export_pages),
        ("POST", f"/v1/connections/{ID}/import", connections.import_virtual),
        # Integrations
        ("GET", "/v1/integrations", integrations.list_integrations),
        ("POST", "/v1/integrations", integrations.create_integration),
        ("GET", f"/v1/integrations/{ID}", integrations.get_integration),
        ("PUT", f"/v1/integrations/{ID}", integrations.update_integration),
        ("PATCH", f"/v1/integrations/{ID}", integrations.patch_integration),
        ("DELETE", f"/v1/integrations/{ID}", integrations.delete_integration),
        ("GET", f"/v1/integrations/{ID}/flows", integrations.list_integration_flows),
        ("GET", f"/v1/integrations/{ID}/exports", integrations.list_integration_exports),
        ("GET", f"/v1/integrations/{ID}/imports", integrations.list_integration_imports),
        ("GET", f"/v1/integrations/{ID}/connections", integrations.list_integration_connections),
        ("POST", f"/v1/integrations/{ID}/clone", integrations.clone_integration),
        # Flows
        ("GET", "/v1/flows", flows.list_flows),
        ("POST", "/v1/flows", flows.create_flow),
        ("GET", f"/v1/flows/{ID}", flows.get_flow),
        ("PUT", f"/v1/flows/{ID}", flows.update_flow),
        ("PATCH", f"/v1/flows/{ID}", flows.patch_flow),
        ("DELETE", f"/v1/flows/{ID}", flows.delete_flow),
        ("POST", f"/v1/flows/{ID}/run", flows.run_flow),
        ("POST", f"/v1/flows/{ID}/clone", flows.clone_flow),
        ("PUT", f"/v1/flows/{ID}/replaceConnection", flows.replace_flow_connection),
        # Flow step errors (Error Management 2.0)
        ("GET", f"/v1/flows/{ID}/{STEP}/errors", flow_errors.list_step_errors),
        ("GET", f"/v1/flows/{ID}/{STEP}/resolved", flow_errors.list_resolved_step_errors),
        ("PUT", f"/v1/flows/{ID}/{STEP}/resolved", flow_errors.resolve_step_errors),
        ("POST", f"/v1/flows/{ID}/{STEP}/retry", flow_errors.retry_step_errors),
        # Exports and imports
        ("GET", "/v1/exports", exports_imports.list_exports),
        ("POST", "/v1/exports", exports_imports.create_export),
        ("GET", f"/v1/exports/{ID}", exports_imports.get_export),
        ("PUT", f"/v1/exports/{ID}", exports_imports.update_export),
        ("PATCH", f"/v1/exports/{ID}", exports_imports.patch_export),
        ("DELETE", f"/v1/exports/{ID}", exports_imports.delete_export),
        ("PUT", f"/v1/exports/{ID}/replaceConnection", exports_imports.replace_export_connection),
        ("GET", "/v1/imports", exports_imports.list_imports),
        ("POST", "/v1/imports", exports_imports.create_import),
        ("GET", f"/v1/imports/{ID}", exports_imports.get_import),
        ("PUT", f"/v1/imports/{ID}", exports_imports.update_import),
        ("PATCH", f"/v1/imports/{ID}", exports_imports.patch_import),
        ("DELETE", f"/v1/imports/{ID}", exports_imports.delete_import),
        ("PUT", f"/v1/imports/{ID}/replaceConnection", exports_imports.replace_import_connection),
        # Jobs
        ("GET", "/v1/jobs", jobs.list_jobs),
        ("GET", f"/v1/jobs/{ID}", jobs.get_job),
        ("PUT", f"/v1/jobs/{ID}/cancel", jobs.cancel_job),
        ("GET", f"/v1/jobs/{ID}/joberrors", jobs.list_job_errors),
        # iClients
        ("GET", "/v1/iclients", iclients.list_iclients),
        ("POST", "/v1/iclients", iclients.create_iclient),
        ("GET", f"/v1/iclients/{ID}", iclients.get_iclient),
        ("PUT", f"/v1/iclients/{ID}", iclients.update_iclient),
        ("PATCH", f"/v1/iclients/{ID}", iclients.patch_iclient),
        ("DELETE", f"/v1/iclients/{ID}", iclients.delete_iclient),
        # State
        ("GET", "/v1/state", state.list_state_keys),
        ("DELETE", "/v1/state", state.delete_all_state),
        ("GET", "/v1/state/{key}", state.get_state),
        ("PUT", "/v1/state/{key}", state.put_state),
        ("DELETE", "/v1/state/{key}", state.delete_state),
        ("GET", f"/v1/{RESOURCE}/{ID}/state", state.list_state_keys),
        ("DELETE", f"/v1/{RESOURCE}/{ID}/state", state.delete_all_state),
        ("GET", f"/v1/{RESOURCE}/{ID}/state/{{key}}", state.get_state),
        ("PUT", f"/v1/{RESOURCE}/{ID}/state/{{key}}", state.put_state),
        ("DELETE", f"/v1/{RESOURCE}/{ID}/state/{{key}}", state.delete_state),
    ]
    for prefix in ("", "/eu"):
        for method, path, handler in routes:
            router.add_route(method, prefix + path, handler)

"""Handlers for /v1/integrations: CRUD, sub-lists and clone."""

from aiohttp import web

from sandbox.models.cloning import integration_clone
from sandbox.models.integration_rules import (
    integration_connection_ids,
    integration_members,
    integration_validate,
)
from sandbox.responses import crud
from sandbox.responses.bodies import json_response, read_json, sandbox_of
from sandbox.responses.connections import CONNECTION
from sandbox.responses.exports_imports import EXPORT, IMPORT
from sandbox.responses.flows import FLOW

INTEGRATION = crud.Resource(collection="integrations", validate=integration_validate)


async def list_integrations(request: web.Request) -> web.Response:
    return await crud.list_resource(request, INTEGRATION)


async def get_integration(request: web.Request) -> web.Response:
    return await crud.get_resource(request, INTEGRATION)


async def create_integration(request: web.Request) -> web.Response:
    return await crud.create_resource(request, INTEGRATION)


async def update_integration(request: web.Request) -> web.Response:
    return await crud.replace_resource(request, INTEGRATION)


async def patch_integration(request: web.Request) -> web.Response:
    return await crud.patch_resource(request, INTEGRATION)


async def delete_integration(request: web.Request) -> web.Response:
    """No cascade: the integration's flows, exports, imports and connections stay."""
    return await crud.delete_resource(request, INTEGRATION)


async def list_integration_flows(request: web.Request) -> web.Response:
    return await _members(request, FLOW)


async def list_integration_exports(request: web.Request) -> web.Response:
    return await _members(request, EXPORT)


async def list_integration_imports(request: web.Request) -> web.Response:
    return await _members(request, IMPORT)


async def list_integration_connections(request: web.Request) -> web.Response:
    store = sandbox_of(request).store
    ids = integration_connection_ids(store, request.match_info["id"])
    docs = [store.require("connections", i) for i in ids]
    return await crud.list_resource(request, CONNECTION, docs, top_level=False)


async def clone_integration(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    manifest = integration_clone(
        store=sandbox.store,
        jobs=sandbox.jobs,
        source_id=request.match_info["id"],
        body=await read_json(request, default={}),
        keep_tag=sandbox.settings.clone_keeps_tag,
        fault=sandbox.settings.clone_fault,
    )
    return json_response(manifest, status=201)


async def _members(request: web.Request, resource: crud.Resource) -> web.Response:
    store = sandbox_of(request).store
    integration_id = store.require("integrations", request.match_info["id"])["_id"]
    docs = integration_members(store, resource.collection, integration_id)
    return await crud.list_resource(request, resource, docs, top_level=False)

"""Handlers for /v1/flows: CRUD, run, clone and replaceConnection."""

from aiohttp import web

from sandbox import assumptions
from sandbox.models.cloning import flow_clone
from sandbox.models.connection_replacement import flow_replace_connection
from sandbox.models.flow_rules import flow_validate, flow_with_defaults
from sandbox.models.ping import oauth_connections_check
from sandbox.responses import crud
from sandbox.responses.bodies import json_response, read_json, sandbox_of

FLOW = crud.Resource(
    collection="flows",
    validate=flow_validate,
    prepare=lambda fields, current: flow_with_defaults(fields),
)


async def list_flows(request: web.Request) -> web.Response:
    return await crud.list_resource(request, FLOW)


async def get_flow(request: web.Request) -> web.Response:
    return await crud.get_resource(request, FLOW)


async def create_flow(request: web.Request) -> web.Response:
    return await crud.create_resource(request, FLOW)


async def update_flow(request: web.Request) -> web.Response:
    return await crud.replace_resource(request, FLOW)


async def patch_flow(request: web.Request) -> web.Response:
    return await crud.patch_resource(request, FLOW)


async def delete_flow(request: web.Request) -> web.Response:
    return await crud.delete_resource(request, FLOW)


async def run_flow(request: web.Request) -> web.Response:
    """POST /flows/{id}/run -> 201 {"_jobId": ...}; the body (may be empty) is not used."""
    sandbox = sandbox_of(request)
    flow = sandbox.store.require("flows", request.match_info["id"])
    await read_json(request, default={})
    await oauth_connections_check(
        sandbox.http, sandbox.store, flow, timeout=sandbox.settings.ping_timeout_seconds
    )
    job = sandbox.jobs.run_flow(flow)
    return json_response({assumptions.FLOW_RUN_RESPONSE_KEY: job["_id"]}, status=201)


async def clone_flow(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    manifest = flow_clone(
        store=sandbox.store,
        source_id=request.match_info["id"],
        body=await read_json(request, default={}),
    )
    return json_response(manifest, status=201)


async def replace_flow_connection(request: web.Request) -> web.Response:
    """PUT /flows/{id}/replaceConnection {"_connectionId", "_newConnectionId"} -> 200 flow."""
    flow = flow_replace_connection(
        store=sandbox_of(request).store,
        flow_id=request.match_info["id"],
        body=await read_json(request, default={}),
    )
    return json_response(flow)

"""Handlers for /v1/connections: CRUD, ping by id (GET and POST), the virtual ping, and the
virtual export and import."""

from aiohttp import web

from sandbox import assumptions
from sandbox.models.connection_rules import connection_render, connection_validate
from sandbox.models.documents import require_object, writable_fields
from sandbox.models.ping import PingResult, ping_connection, record_ping, take_forced_ping
from sandbox.models.virtual_exports_imports import export_page, import_records
from sandbox.responses import crud
from sandbox.responses.bodies import json_response, read_json, sandbox_of

CONNECTION = crud.Resource(
    collection="connections",
    validate=connection_validate,
    render=connection_render,
    response_only=("queues",),
)


async def list_connections(request: web.Request) -> web.Response:
    return await crud.list_resource(request, CONNECTION)


async def get_connection(request: web.Request) -> web.Response:
    return await crud.get_resource(request, CONNECTION)


async def create_connection(request: web.Request) -> web.Response:
    return await crud.create_resource(request, CONNECTION)


async def update_connection(request: web.Request) -> web.Response:
    return await crud.replace_resource(request, CONNECTION)


async def patch_connection(request: web.Request) -> web.Response:
    return await crud.patch_resource(request, CONNECTION)


async def delete_connection(request: web.Request) -> web.Response:
    return await crud.delete_resource(request, CONNECTION)


async def ping_connection_by_id(request: web.Request) -> web.Response:
    """GET or POST /connections/{id}/ping: a failure also sets the connection offline."""
    sandbox = sandbox_of(request)
    doc = sandbox.store.require("connections", request.match_info["id"])
    await read_json(request, default={})  # the UI sends a small context body; it is not used
    result = take_forced_ping(sandbox.ping_outcomes, doc["_id"])
    if result is None:
        result = await ping_connection(
            sandbox.http, doc, timeout=sandbox.settings.ping_timeout_seconds, store=sandbox.store
        )
    record_ping(sandbox.store, doc, result)
    return _ping_answer(sandbox, result)


async def ping_virtual_connection(request: web.Request) -> web.Response:
    """POST /connections/ping: the whole connection in the body, nothing saved."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    fields = writable_fields(body)
    connection_validate(store=sandbox.store, doc=fields)
    result = await ping_connection(
        sandbox.http, fields, timeout=sandbox.settings.ping_timeout_seconds
    )
    return _ping_answer(sandbox, result)


def _ping_answer(sandbox, result: PingResult) -> web.Response:
    if result.ok:
        return json_response(assumptions.PING_SUCCESS_BODY)
    body = {"errors": [{"code": result.code, "message": result.message}]}
    return json_response(body, status=sandbox.settings.ping_failure_status)


async def export_pages(request: web.Request) -> web.Response:
    """POST /connections/{id}/export/pages: a virtual export, one page at a time."""
    sandbox = sandbox_of(request)
    doc = sandbox.store.require("connections", request.match_info["id"])
    page = await export_page(
        sandbox.http,
        doc,
        await read_json(request, default={}),
        timeout=sandbox.settings.ping_timeout_seconds,
        made_up=sandbox.settings.job_records,
    )
    return json_response(page)


async def import_virtual(request: web.Request) -> web.Response:
    """POST /connections/{id}/import: a virtual import of the records in the body."""
    sandbox = sandbox_of(request)
    doc = sandbox.store.require("connections", request.match_info["id"])
    results = await import_records(
        sandbox.http,
        doc,
        await read_json(request, default={}),
        timeout=sandbox.settings.ping_timeout_seconds,
    )
    return json_response(results)

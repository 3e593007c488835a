"""Handlers for the State API: global keys (/state) and keys kept per resource
(/{resourceType}/{id}/state), with the documented odd answers: a PUT answers plain text `OK`
(or `Created`, 201, for a new key under a resource); deleting under a resource answers 200.
"""

from aiohttp import web

from sandbox.exceptions import InvalidField, NotFound
from sandbox.responses.bodies import json_response, read_json, sandbox_of

GLOBAL = ""
RESOURCE_TYPES = ("connections", "exports", "imports", "flows", "integrations")
_NO_BODY = object()


def _scope(request: web.Request) -> str:
    resource = request.match_info.get("resource")
    if resource is None:
        return GLOBAL
    sandbox_of(request).store.require(resource, request.match_info["id"])
    return f"{resource}/{request.match_info['id']}"


def _keys(request: web.Request, scope: str) -> dict[str, object]:
    return sandbox_of(request).store.state_keys.get(scope, {})


async def list_state_keys(request: web.Request) -> web.Response:
    return json_response({"keys": list(_keys(request, _scope(request)))})


async def get_state(request: web.Request) -> web.Response:
    keys = _keys(request, _scope(request))
    key = request.match_info["key"]
    if key not in keys:
        raise NotFound(f"State key {key!r} not found.")
    return json_response(keys[key])


async def put_state(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    scope = _scope(request)
    value = await read_json(request, default=_NO_BODY)
    if value is _NO_BODY:
        raise InvalidField("A JSON value is required.")
    keys = sandbox.store.state_keys.setdefault(scope, {})
    created = request.match_info["key"] not in keys
    keys[request.match_info["key"]] = value
    sandbox.store.changed()
    if scope != GLOBAL and created:
        return web.Response(status=201, text="Created", content_type="text/plain")
    return web.Response(text="OK", content_type="text/plain")


async def delete_state(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    scope = _scope(request)
    keys = sandbox.store.state_keys.get(scope, {})
    if keys.pop(request.match_info["key"], _NO_BODY) is _NO_BODY:
        raise NotFound(f"State key {request.match_info['key']!r} not found.")
    sandbox.store.changed()
    return web.Response(status=204) if scope == GLOBAL else web.Response(text="OK")


async def delete_all_state(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    scope = _scope(request)
    sandbox.store.state_keys.pop(scope, None)
    sandbox.store.changed()
    return web.Response(status=204) if scope == GLOBAL else web.Response(text="OK")

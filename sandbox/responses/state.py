"""Handlers for the State API: global keys (/state) and keys kept per resource
(/{resourceType}/{id}/state), with the documented odd answers: a PUT answers plain text `OK`
(or `Created`, 201, for a new key under a resource); deleting under a resource answers 200.
"""

from aiohttp import web

from sandbox.exceptions import InvalidField
from sandbox.models.state_keys import (
    GLOBAL_SCOPE,
    delete_state_scope,
    delete_state_value,
    put_state_value,
    state_key_names,
    state_scope,
    state_value,
)
from sandbox.responses.bodies import json_response, read_json, sandbox_of

_NO_BODY = object()


def _scope(request: web.Request) -> str:
    store = sandbox_of(request).store
    return state_scope(store, request.match_info.get("resource"), request.match_info.get("id"))


async def list_state_keys(request: web.Request) -> web.Response:
    store = sandbox_of(request).store
    return json_response({"keys": state_key_names(store, _scope(request))})


async def get_state(request: web.Request) -> web.Response:
    store = sandbox_of(request).store
    return json_response(state_value(store, _scope(request), request.match_info["key"]))


async def put_state(request: web.Request) -> web.Response:
    store = sandbox_of(request).store
    scope = _scope(request)
    value = await read_json(request, default=_NO_BODY)
    if value is _NO_BODY:
        raise InvalidField("A JSON value is required.")
    created = put_state_value(store, scope, request.match_info["key"], value)
    if scope != GLOBAL_SCOPE and created:
        return web.Response(status=201, text="Created", content_type="text/plain")
    return web.Response(text="OK", content_type="text/plain")


async def delete_state(request: web.Request) -> web.Response:
    scope = _scope(request)
    delete_state_value(sandbox_of(request).store, scope, request.match_info["key"])
    return _deleted(scope)


async def delete_all_state(request: web.Request) -> web.Response:
    scope = _scope(request)
    delete_state_scope(sandbox_of(request).store, scope)
    return _deleted(scope)


def _deleted(scope: str) -> web.Response:
    return web.Response(status=204) if scope == GLOBAL_SCOPE else web.Response(text="OK")

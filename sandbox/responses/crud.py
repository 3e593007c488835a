"""The operations every resource shares (list, get, create, PUT, PATCH, DELETE), driven by
each resource's rules: how to validate a body, fill server fields, and render a document.
"""

import dataclasses
from collections.abc import Callable

from aiohttp import web

from sandbox import assumptions
from sandbox.models.documents import apply_json_patch, require_object, writable_fields
from sandbox.models.store import Store
from sandbox.responses.bodies import json_response, no_content, read_json, sandbox_of
from sandbox.responses.listing import list_response


def _same(doc: dict) -> dict:
    return doc


def _unchanged(fields: dict, current: dict | None) -> dict:
    return fields


@dataclasses.dataclass(frozen=True)
class Resource:
    collection: str
    validate: Callable[..., None]
    render: Callable[[dict], dict] = _same
    # Fill server-owned fields of a create (current is None) or an update.
    prepare: Callable[[dict, dict | None], dict] = _unchanged
    response_only: tuple[str, ...] = ()


async def list_resource(
    request: web.Request, resource: Resource, docs: list[dict] | None = None, *, top_level=True
) -> web.Response:
    sandbox = sandbox_of(request)
    if docs is None:
        docs = sandbox.store.values(resource.collection)
    return list_response(
        request,
        docs,
        page_size=sandbox.settings.page_size,
        no_content_when_empty=top_level
        and resource.collection in assumptions.EMPTY_LIST_NO_CONTENT,
        render=resource.render,
    )


async def get_resource(request: web.Request, resource: Resource) -> web.Response:
    doc = sandbox_of(request).store.require(resource.collection, request.match_info["id"])
    return json_response(resource.render(doc))


async def create_resource(request: web.Request, resource: Resource) -> web.Response:
    store: Store = sandbox_of(request).store
    body = require_object(await read_json(request, default={}))
    fields = resource.prepare(_client_fields(resource, body), None)
    resource.validate(store=store, doc=fields)
    doc = store.insert(resource.collection, fields)
    return json_response(resource.render(doc), status=201)


async def replace_resource(request: web.Request, resource: Resource) -> web.Response:
    store: Store = sandbox_of(request).store
    current = store.require(resource.collection, request.match_info["id"])
    body = require_object(await read_json(request, default={}))
    fields = resource.prepare(_client_fields(resource, body), current)
    resource.validate(store=store, doc=fields)
    doc = store.replace(resource.collection, current["_id"], fields)
    return json_response(resource.render(doc))


async def patch_resource(request: web.Request, resource: Resource) -> web.Response:
    store: Store = sandbox_of(request).store
    current = store.require(resource.collection, request.match_info["id"])
    operations = await read_json(request)
    allowed = assumptions.PATCH_ALLOWED_PATHS.get(resource.collection)
    patched = apply_json_patch(current, operations, allowed)
    fields = resource.prepare(_client_fields(resource, patched), current)
    resource.validate(store=store, doc=fields)
    store.replace(resource.collection, current["_id"], fields)
    return web.Response(status=assumptions.PATCH_STATUS)


async def delete_resource(request: web.Request, resource: Resource) -> web.Response:
    sandbox_of(request).store.delete(resource.collection, request.match_info["id"])
    return no_content()


def _client_fields(resource: Resource, body: dict) -> dict:
    fields = writable_fields(body)
    for name in resource.response_only:
        fields.pop(name, None)
    return fields

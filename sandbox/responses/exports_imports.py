"""Handlers for /v1/exports and /v1/imports: CRUD (with a few list filters) and
replaceConnection."""

import functools

from aiohttp import web

from sandbox.models.connection_replacement import resource_replace_connection
from sandbox.models.export_import_rules import (
    resource_prepare,
    resource_render,
    resource_validate,
    resources_filtered,
)
from sandbox.responses import crud
from sandbox.responses.bodies import json_response, read_json, sandbox_of


def _resource(collection: str) -> crud.Resource:
    return crud.Resource(
        collection=collection,
        validate=functools.partial(resource_validate, collection=collection),
        render=functools.partial(resource_render, collection),
        prepare=functools.partial(resource_prepare, collection),
    )


EXPORT = _resource("exports")
IMPORT = _resource("imports")


async def list_exports(request: web.Request) -> web.Response:
    return await crud.list_resource(request, EXPORT, _filtered(request, EXPORT))


async def get_export(request: web.Request) -> web.Response:
    return await crud.get_resource(request, EXPORT)


async def create_export(request: web.Request) -> web.Response:
    return await crud.create_resource(request, EXPORT)


async def update_export(request: web.Request) -> web.Response:
    return await crud.replace_resource(request, EXPORT)


async def patch_export(request: web.Request) -> web.Response:
    return await crud.patch_resource(request, EXPORT)


async def delete_export(request: web.Request) -> web.Response:
    return await crud.delete_resource(request, EXPORT)


async def replace_export_connection(request: web.Request) -> web.Response:
    return await _replace_connection(request, EXPORT)


async def list_imports(request: web.Request) -> web.Response:
    return await crud.list_resource(request, IMPORT, _filtered(request, IMPORT))


async def get_import(request: web.Request) -> web.Response:
    return await crud.get_resource(request, IMPORT)


async def create_import(request: web.Request) -> web.Response:
    return await crud.create_resource(request, IMPORT)


async def update_import(request: web.Request) -> web.Response:
    return await crud.replace_resource(request, IMPORT)


async def patch_import(request: web.Request) -> web.Response:
    return await crud.patch_resource(request, IMPORT)


async def delete_import(request: web.Request) -> web.Response:
    return await crud.delete_resource(request, IMPORT)


async def replace_import_connection(request: web.Request) -> web.Response:
    return await _replace_connection(request, IMPORT)


async def _replace_connection(request: web.Request, resource: crud.Resource) -> web.Response:
    """PUT /{exports|imports}/{id}/replaceConnection {"_newConnectionId"} -> 200 document."""
    doc = resource_replace_connection(
        store=sandbox_of(request).store,
        collection=resource.collection,
        resource_id=request.match_info["id"],
        body=await read_json(request, default={}),
    )
    return json_response(resource.render(doc))


def _filtered(request: web.Request, resource: crud.Resource) -> list[dict]:
    store = sandbox_of(request).store
    return resources_filtered(store, resource.collection, request.query)

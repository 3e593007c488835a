"""Handlers for /v1/exports and /v1/imports: CRUD (with a few list filters)."""

import functools

from aiohttp import web

from sandbox import assumptions
from sandbox.models.export_import_rules import (
    new_resource_api_identifier,
    resource_render,
    resource_validate,
)
from sandbox.responses import crud
from sandbox.responses.bodies import sandbox_of


def _prepare(collection: str, fields: dict, current: dict | None) -> dict:
    """Keep the server-generated apiIdentifier across updates; make one on create."""
    if current is not None and current.get("apiIdentifier"):
        return {**fields, "apiIdentifier": current["apiIdentifier"]}
    return {**fields, "apiIdentifier": new_resource_api_identifier(collection)}


def _resource(collection: str) -> crud.Resource:
    return crud.Resource(
        collection=collection,
        validate=functools.partial(resource_validate, collection=collection),
        render=functools.partial(resource_render, collection),
        prepare=functools.partial(_prepare, collection),
    )


EXPORT = _resource("exports")
IMPORT = _resource("imports")


async def list_exports(request: web.Request) -> web.Response:
    return await crud.list_resource(request, EXPORT, _filtered(request, "exports"))


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


async def list_imports(request: web.Request) -> web.Response:
    return await crud.list_resource(request, IMPORT, _filtered(request, "imports"))


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


def _filtered(request: web.Request, collection: str) -> list[dict]:
    docs = sandbox_of(request).store.values(collection)
    for name in assumptions.RESOURCE_LIST_FILTERS:
        value = request.query.get(name)
        if value:
            docs = [doc for doc in docs if doc.get(name) == value]
    return docs

"""Handlers for /v1/iclients: CRUD, secrets masked."""

from aiohttp import web

from sandbox.models.iclient_rules import iclient_render, iclient_validate
from sandbox.responses import crud

ICLIENT = crud.Resource(collection="iclients", validate=iclient_validate, render=iclient_render)


async def list_iclients(request: web.Request) -> web.Response:
    return await crud.list_resource(request, ICLIENT)


async def get_iclient(request: web.Request) -> web.Response:
    return await crud.get_resource(request, ICLIENT)


async def create_iclient(request: web.Request) -> web.Response:
    return await crud.create_resource(request, ICLIENT)


async def update_iclient(request: web.Request) -> web.Response:
    return await crud.replace_resource(request, ICLIENT)


async def patch_iclient(request: web.Request) -> web.Response:
    return await crud.patch_resource(request, ICLIENT)


async def delete_iclient(request: web.Request) -> web.Response:
    return await crud.delete_resource(request, ICLIENT)

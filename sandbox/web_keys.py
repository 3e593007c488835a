"""The typed key under which the aiohttp application holds its `Sandbox`."""

from typing import Any

from aiohttp import web

SANDBOX: web.AppKey[Any] = web.AppKey("sandbox", object)

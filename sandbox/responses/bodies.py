"""Reading JSON request bodies and writing JSON answers, as the API does."""

import json

from aiohttp import web

from sandbox.exceptions import InvalidJson, UnsupportedMediaType
from sandbox.web_keys import SANDBOX

JSON_TYPES = ("application/json",)


async def read_json(request: web.Request, *, default: object = None) -> object:
    """The parsed body; `default` when there is none. A non-JSON body is a 415."""
    if not request.body_exists:
        return default
    raw = await request.read()
    if not raw.strip():
        return default
    content_type = request.content_type
    if content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise UnsupportedMediaType()
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidJson("The request body is not valid JSON.") from None


def json_response(data: object, *, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")


def no_content() -> web.Response:
    return web.Response(status=204)


def sandbox_of(request: web.Request):
    return request.app[SANDBOX]

"""GET /v1/tokenInfo: who the token belongs to (the service's readiness probe calls it)."""

import hashlib

from aiohttp import web

from sandbox import assumptions
from sandbox.responses.bodies import json_response


async def get_token_info(request: web.Request) -> web.Response:
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    digest = hashlib.sha256(token.encode()).hexdigest()
    user_id = (
        assumptions.TOKEN_USER_ID_PREFIX + digest[: 24 - len(assumptions.TOKEN_USER_ID_PREFIX)]
    )
    return json_response({"_userId": user_id, "scope": "*"})

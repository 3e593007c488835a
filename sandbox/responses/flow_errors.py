"""Handlers for Error Management 2.0, /v1/flows/{flowId}/{stepId}/errors|resolved|retry.

An account in EM 1.0 mode (the `error_management` setting) has none of these: 404.
"""

from aiohttp import web

from sandbox import assumptions
from sandbox.exceptions import NotFound
from sandbox.models.step_errors import step_errors_page, step_errors_resolve
from sandbox.responses.bodies import json_response, no_content, read_json, sandbox_of


def _ids(request: web.Request) -> tuple[str, str]:
    sandbox = sandbox_of(request)
    if sandbox.settings.error_management != 2:
        raise NotFound(assumptions.EM1_STEP_ERRORS_MESSAGE)
    sandbox.jobs.advance()
    return request.match_info["id"], request.match_info["step"]


def _page(request: web.Request, *, resolved: bool) -> web.Response:
    flow_id, step_id = _ids(request)
    store = sandbox_of(request).store
    query = request.query
    page = step_errors_page(store, flow_id=flow_id, step_id=step_id, resolved=resolved, query=query)
    return json_response(page)


async def list_step_errors(request: web.Request) -> web.Response:
    """GET /flows/{flowId}/{stepId}/errors -> 200 {"errors": [...], "nextPageURL"?}."""
    return _page(request, resolved=False)


async def list_resolved_step_errors(request: web.Request) -> web.Response:
    """GET /flows/{flowId}/{stepId}/resolved -> 200 {"resolved": [...], "nextPageURL"?}."""
    return _page(request, resolved=True)


async def resolve_step_errors(request: web.Request) -> web.Response:
    """PUT /flows/{flowId}/{stepId}/resolved {"errors": [errorId, ...]} -> 204."""
    flow_id, step_id = _ids(request)
    body = await read_json(request, default={})
    step_errors_resolve(sandbox_of(request).store, flow_id=flow_id, step_id=step_id, body=body)
    return no_content()


async def retry_step_errors(request: web.Request) -> web.Response:
    """POST /flows/{flowId}/{stepId}/retry {"retryDataKeys": [...]} -> 200 the retry job."""
    flow_id, step_id = _ids(request)
    body = await read_json(request, default={})
    job = sandbox_of(request).jobs.retry_step_errors(flow_id, step_id, body)
    return json_response(job)

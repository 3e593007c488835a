"""The request pipeline: control-plane auth; injected latency and faults; API auth and rate
limit; upstream-shaped errors; and "commit then drop".

Order for /v1 and /_demo requests: latency, then a matching fault (most modes answer or drop
here, before anything happens), then for /v1 the bearer token and the token's bucket, then the
handler. A `commit_then_drop` fault lets the handler run (the write happens) and then closes the
connection without sending its answer. /_sandbox requests skip latency, faults and the bucket.
"""

import asyncio
import logging
import time

from aiohttp import web

from sandbox import assumptions
from sandbox.exceptions import (
    ApiError,
    InjectedServerError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    Unauthorized,
)
from sandbox.models.accounts import EU, US, current_account
from sandbox.web_keys import SANDBOX

ACCOUNT_HEADER = "X-Sandbox-Account"

logger = logging.getLogger("sandbox")


@web.middleware
async def sandbox_middleware(request: web.Request, handler) -> web.StreamResponse:
    sandbox = request.app[SANDBOX]
    path = request.path
    # Requests of one keep-alive connection share a task, and so its context: each request
    # starts on the default account and sets its own below.
    current_account.set(None)
    if path.startswith("/_sandbox"):
        if _bearer(request) != sandbox.settings.control_token:
            return Unauthorized("The control plane needs SANDBOX_CONTROL_TOKEN.").response()
        # Which account the control plane acts on: the one of the API token in
        # X-Sandbox-Account, else the default account.
        named = request.headers.get(ACCOUNT_HEADER)
        if named is not None:
            account = sandbox.accounts.get(named)
            if account is None:
                return NotFound(f"No sandbox account has the token in {ACCOUNT_HEADER}.").response()
            current_account.set(account)
        return await _answer(request, handler)
    started = time.monotonic()
    arrived_at = time.time()
    faults = sandbox.faults
    if faults.latency:
        delay = faults.delay_for(request.method, path)
        if delay > 0:
            await asyncio.sleep(delay)
    fault = faults.fault_for(request.method, path) if faults.faults else None
    if fault is not None and fault.mode != "commit_then_drop":
        response = await _inject(request, sandbox, fault)
    elif _api_region(path) is not None:
        token = _bearer(request)
        account = sandbox.accounts.get(token)
        # A token works only in its own region, as upstream (docs/integrator-io.md).
        if account is None or account.region != _api_region(path):
            response = Unauthorized().response()
        else:
            retry_after = sandbox.limiter.retry_after(token)
            if retry_after:
                response = RateLimited(retry_after).response()
            else:
                current_account.set(account)
                response = await _answer(request, handler)
    else:
        response = await _answer(request, handler)
    # A caller that hung up (a killed worker) gets no answer either: dropped, as a fault's.
    gone = request.transport is None or request.transport.is_closing()
    dropped = gone or (fault is not None and fault.mode in ("drop", "hang", "commit_then_drop"))
    if fault is not None and fault.mode == "commit_then_drop":
        _drop(request)
    sandbox.journal.append(
        {
            "method": request.method,
            "path": path,
            "query": request.query_string,
            "status": None if dropped else response.status,
            "dropped": dropped,
            "fault": fault.mode if fault is not None else None,
            "ms": round((time.monotonic() - started) * 1000, 1),
            # Wall clock, so that a test can compare arrivals with its own windows.
            "at": arrived_at,
        }
    )
    return response


async def _answer(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except web.HTTPException as exc:
        # The demo apps answer their own HTTP errors; API paths get the upstream envelope.
        if request.path.startswith("/_demo/"):
            raise
        if isinstance(exc, web.HTTPMethodNotAllowed):
            return MethodNotAllowed(f"{request.method} is not allowed on this path.").response()
        if isinstance(exc, web.HTTPNotFound):
            return NotFound(assumptions.ROUTE_NOT_FOUND_MESSAGE).response()
        raise
    except ConnectionResetError:
        # The caller closed the connection before its request was read (a worker killed while
        # sending): nothing failed here, and there is no one to answer.
        logger.info(
            "%s %s: the caller hung up before its request was read", request.method, request.path
        )
        return ApiError("The caller hung up.", code="client_closed", status=400).response()
    except Exception:
        logger.exception("unexpected error answering %s %s", request.method, request.path)
        return ApiError("Internal sandbox error.", code="internal_error", status=500).response()


async def _inject(request: web.Request, sandbox, fault) -> web.StreamResponse:
    if fault.mode == "error":
        return InjectedServerError(
            f"Injected fault: {fault.status} on {request.method} {request.path}.",
            status=fault.status,
        ).response()
    if fault.mode == "rate_limit":
        return RateLimited(fault.retry_after).response()
    if fault.mode == "hang":
        seconds = fault.hang_seconds
        await asyncio.sleep(sandbox.settings.hang_seconds if seconds is None else seconds)
    _drop(request)
    return web.Response(status=204)


def _drop(request: web.Request) -> None:
    """Close the connection; aiohttp then has nowhere to send the answer, so none is sent."""
    if request.transport is not None:
        request.transport.close()


def _api_region(path: str) -> str | None:
    """The region of an API path: `/v1/...` North America, `/eu/v1/...` Europe."""
    if path == "/v1" or path.startswith("/v1/"):
        return US
    if path == "/eu/v1" or path.startswith("/eu/v1/"):
        return EU
    return None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()

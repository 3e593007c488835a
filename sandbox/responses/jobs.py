"""Handlers for /v1/jobs: query, get, cancel and job errors."""

from aiohttp import web

from sandbox.models.job_queries import jobs_query
from sandbox.responses.bodies import json_response, read_json, sandbox_of


async def list_jobs(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    sandbox.jobs.advance()
    jobs = sandbox.store.values("jobs")
    if sandbox.jobs.out_of_order:
        # Creation order is createdAt order unless the clock was stepped back.
        jobs.sort(key=lambda job: job["createdAt"])
    return json_response(jobs_query(jobs, request.query))


async def get_job(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    sandbox.jobs.advance()
    return json_response(sandbox.store.require("jobs", request.match_info["id"]))


async def cancel_job(request: web.Request) -> web.Response:
    """PUT /jobs/{id}/cancel: the job (and its flow's jobs) go `canceling`, then `canceled`."""
    sandbox = sandbox_of(request)
    await read_json(request, default={})
    return json_response(sandbox.jobs.cancel(request.match_info["id"]))


async def list_job_errors(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    return json_response(sandbox.jobs.errors_of(request.match_info["id"]))

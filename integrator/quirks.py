"""The one place where integrator.io's documented quirks and our assumptions are handled.

Each rule names the section of docs/integrator-io.md that gives its public source (or marks it
as an assumption). When the real API turns out to behave differently, change it here and
nowhere else.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from integrator.errors import ErrorDetail, MaskedSecretError, UnexpectedResponseError

# --- Error envelope -------------------------------------------------------------------------
# docs/integrator-io.md, Transport:
# `errors` is always an array; `code` is usually a string but
# numeric codes occur (401 after a ping, "422" on job errors). Codes are normalised to str.


def error_details(body: Any) -> tuple[ErrorDetail, ...]:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return ()
    details = []
    for item in body["errors"]:
        if not isinstance(item, dict):
            details.append(ErrorDetail(code=None, message=text_without_nul(str(item))))
            continue
        code = item.get("code")
        details.append(
            ErrorDetail(
                code=None if code is None else text_without_nul(str(code)),
                message=text_without_nul(str(item.get("message", ""))),
                field=item.get("field"),
            )
        )
    return tuple(details)


def text_without_nul(text: str) -> str:
    """A message as it can be kept: a ping's message repeats what the target app answered,
    which may hold NUL characters (a binary body), and PostgreSQL's text refuses them: the
    message that explains a failed ping would make the request that keeps it fail."""
    return text.replace("\x00", "")


# --- Retrying a POST after 429 ------------------------------------------------------------
# docs/integrator-io.md, Transport:
# the leaky bucket answers 429 before the request is processed, so a
# POST refused with 429 provably did nothing and may be sent again (ASSUMPTION: no source
# says a throttled request is ever partly processed).
POST_REFUSED_WITH_429_IS_UNPROCESSED = True


# --- Empty lists ------------------------------------------------------------------------------
# docs/integrator-io.md, Transport:
# an empty `GET /connections` or `GET /flows` answers 204 with no body.
# Treated as [] for every list.


def list_from_body(body: Any) -> list[Any]:
    if body is None:
        return []
    if not isinstance(body, list):
        raise UnexpectedResponseError(f"expected a JSON array, got {type(body).__name__}")
    return body


# --- Jobs paging ----------------------------------------------------------------------------
# docs/integrator-io.md, Transport:
# jobs come newest first, up to 1001 a page, with no cursor; the
# next page is asked for with createdAt_lte = last record's createdAt minus 1 ms. Jobs created
# in the same millisecond across a page boundary can be skipped; the API offers no better.


def next_jobs_created_at_lte(oldest_created_at: datetime) -> str:
    """The createdAt_lte that asks for the page after one whose oldest job is given."""
    return jobs_query_timestamp(oldest_created_at - timedelta(milliseconds=1))


# docs/integrator-io.md, Flows and jobs (assumption): a page holds "up to 1001" jobs, and
# the docs never say a page can be short for another reason, so a page of fewer jobs than
# JOBS_PAGE_FULL is the last one. 1000, not 1001: should the real page be 1000 long, a full
# page is still never taken for the last (it costs one more, empty, page at worst).
JOBS_PAGE_FULL = 1000


def jobs_page_is_last(page_length: int) -> bool:
    return page_length < JOBS_PAGE_FULL


# docs/integrator-io.md, Flows and jobs (assumption): jobs created in the same millisecond
# across a page boundary would be skipped by "minus 1 ms". The account-wide sync asks for the
# next page with createdAt_lte = the oldest createdAt itself, reads that millisecond again and
# drops the jobs it already has by id; it steps 1 ms back only when a page brought nothing new.
def jobs_created_at_lte_again(oldest_created_at: datetime) -> str:
    return jobs_query_timestamp(oldest_created_at)


# docs/integrator-io.md, Flows and jobs:
# job date filters take ISO with or without ms, a date or epoch ms; with numError_*
# and _integrationId only ISO with milliseconds works, so that is what we always send.
def jobs_query_timestamp(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Job status spellings ---------------------------------------------------------------------
# docs/integrator-io.md, Flows and jobs:
# the field table says canceling/canceled, the prose says
# cancelling/cancelled. Both are accepted and reported in the one-l spelling.
_JOB_STATUS_SPELLINGS = {"cancelling": "canceling", "cancelled": "canceled"}


def normalize_job_status(status: Any) -> str:
    value = str(status or "").lower()
    return _JOB_STATUS_SPELLINGS.get(value, value)


# --- Connection ping ----------------------------------------------------------------------------
# docs/integrator-io.md, Connections:
# the old docs say GET /connections/{id}/ping, the current UI and the
# MCP servers use POST with a small body; both are served. We follow current usage.
PING_METHOD = "POST"
# A ping creates nothing: repeating one after a lost response cannot duplicate anything, so
# pings are retried like idempotent calls instead of raising OutcomeUnknownError.
PING_IS_SAFE_TO_REPEAT = True
# docs/integrator-io.md, Connections:
# a failed test can come back as 2xx with an `errors` body (what the
# UI checks first) or as a 4xx. A 400/422 is read as "the connection's credentials or
# settings failed". A 401/403 is NOT read as a failed ping: it most plausibly means our own
# API token was refused, and blaming the tenant's credentials for it would mislead.
PING_FAILURE_STATUSES = frozenset({400, 422})


def ping_outcome(body: Any) -> tuple[bool, tuple[ErrorDetail, ...]]:
    """(ok, errors) for a 2xx ping answer: any `errors` item means the test failed."""
    errors = error_details(body)
    return (not errors, errors)


# --- Masked secrets -------------------------------------------------------------------------
# docs/integrator-io.md, Connections:
# every read returns secrets as "******", and a write that sends the
# placeholder back stores the asterisks as the new secret. Every write body is checked and
# refused before it is sent. For connections, the caller must rebuild the body from the
# tenant's credentials instead of echoing a fetched document.
MASKED_SECRET = "******"


def masked_secret_paths(body: Any, path: str = "") -> list[str]:
    """JSON Pointer paths of every value equal to the masked placeholder."""
    if isinstance(body, dict):
        found = []
        for key, value in body.items():
            found += masked_secret_paths(value, f"{path}/{key}")
        return found
    if isinstance(body, list):
        found = []
        for index, value in enumerate(body):
            found += masked_secret_paths(value, f"{path}/{index}")
        return found
    return [path or "/"] if body == MASKED_SECRET else []


def refuse_masked_secrets(body: Any, *, method: str, path: str) -> None:
    found = masked_secret_paths(body)
    if found:
        raise MaskedSecretError(
            f"refusing to send the masked placeholder {MASKED_SECRET!r} at {', '.join(found)}; "
            "send the real secret (or leave the resource alone)",
            method=method,
            path=path,
        )


# --- PUT is a full replace -----------------------------------------------------------------------
# docs/integrator-io.md, Transport:
# PUT replaces the whole resource and erases omitted fields, so an
# update is always read, change, write of the complete document.


def replacement_document(
    current: dict[str, Any], change: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Apply `change` to a deep copy of the fetched document and return the body to PUT.

    `change` edits the copy in place (its return value is used instead when it is a dict).
    There is no ETag or version check in the API: a concurrent writer between our GET and
    PUT loses its change. The service serialises its own writes per tenant.
    """
    document = copy.deepcopy(current)
    changed = change(document)
    return changed if isinstance(changed, dict) else document


# --- Flow run response ------------------------------------------------------------------------
# docs/integrator-io.md, Flows and jobs:
# the response body is not documented. Accept `_jobId`, `_flowJobId` or `_id`
# (at the top level or as the first item of an array); None means "not found", and the client
# falls back to the newest flow job of that flow.
_RUN_JOB_ID_FIELDS = ("_jobId", "_flowJobId", "_id")


def job_id_from_run_response(body: Any) -> str | None:
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        for name in _RUN_JOB_ID_FIELDS:
            if isinstance(body.get(name), str) and body[name]:
                return body[name]
    return None


# --- Clone response --------------------------------------------------------------------------
# docs/integrator-io.md, Integrations and cloning:
# normally a manifest array [{model, _id, name?}, ...]; some clone
# endpoints answer the cloned document itself, and with newTemplateInstaller an object holding
# `_integrationId`. All three shapes are read; the new integration is the "Integration" item.


def flow_clone_items(body: Any) -> list[tuple[str, str, str | None]]:
    """[(model, id, name), ...] of a flow clone's manifest; it must name the new flow. A single
    flow document is read as a manifest of that flow alone."""
    if isinstance(body, dict) and body.get("_id"):
        body = [{"model": "Flow", "_id": body["_id"], "name": body.get("name")}]
    if isinstance(body, list):
        items = [
            (str(item.get("model", "")), str(item["_id"]), item.get("name"))
            for item in body
            if isinstance(item, dict) and item.get("_id")
        ]
        if any(model == "Flow" for model, _, _ in items):
            return items
    raise UnexpectedResponseError("flow clone response names no new flow")


def clone_manifest_items(body: Any) -> tuple[str, list[tuple[str, str, str | None]]]:
    """(new integration id, [(model, id, name), ...]) from any documented clone response."""
    if isinstance(body, list):
        items = [
            (str(item.get("model", "")), str(item["_id"]), item.get("name"))
            for item in body
            if isinstance(item, dict) and item.get("_id")
        ]
        integration_ids = [item_id for model, item_id, _ in items if model == "Integration"]
        if integration_ids:
            return integration_ids[0], items
    elif isinstance(body, dict):
        # The cloned integration document itself has `_id`; the installer form has only
        # `_integrationId`.
        new_id = body.get("_id") or body.get("_integrationId")
        if isinstance(new_id, str) and new_id:
            return new_id, [("Integration", new_id, body.get("name"))]
    raise UnexpectedResponseError("clone response names no new integration")


# --- Error Management 2.0 ---------------------------------------------------------------------
# docs/integrator-io.md, Run errors:
# a step's errors page by a `nextPageURL` in the body (not `Link`); the UI reads open errors
# under "errors" and resolved ones under "resolved" (both accepted here, whichever the body has).
# ASSUMPTION: `nextPageURL` is a path of the API, either as the API serves it (`/v1/...`) or as
# the web UI sees it (`/api/...`, which the UI strips); absolute URLs are taken as they are.
# The UI resolves and retries at most 1000 errors per call.
STEP_ERRORS_PER_CALL = 1000


def step_errors_page(body: Any, *, resolved: bool) -> tuple[list[Any], str | None]:
    """(the page's error documents, the next page's URL or None) of a step errors answer."""
    if body is None:
        return [], None
    if not isinstance(body, dict):
        raise UnexpectedResponseError(f"expected an errors object, got {type(body).__name__}")
    keys = ("resolved", "errors") if resolved else ("errors", "resolved")
    items = next((body[key] for key in keys if isinstance(body.get(key), list)), None)
    if items is None:
        raise UnexpectedResponseError("the errors answer holds no list of errors")
    next_url = body.get("nextPageURL")
    return items, (str(next_url) if next_url else None)


def step_errors_next_path(next_page_url: str, base_path: str) -> str:
    """The next page's URL relative to the host, from `nextPageURL` (see above)."""
    if next_page_url.startswith("/api/"):
        return base_path.rstrip("/") + next_page_url.removeprefix("/api")
    return next_page_url


def retry_job_id(body: Any) -> str | None:
    """ASSUMPTION: the retry answer's shape is not documented; its job id is taken from
    `_jobId` or `_id` when it has one."""
    if isinstance(body, dict):
        for key in ("_jobId", "_id"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return None


def flow_step_ids(doc: Any) -> tuple[str, ...]:
    """The export and import ids of a flow document, in order: page generators, then page
    processors (also those in routers' branches); each once."""
    if not isinstance(doc, dict):
        return ()
    found: list[str] = []
    processors = list(doc.get("pageProcessors") or [])
    for router in doc.get("routers") or []:
        for branch in (router or {}).get("branches") or []:
            processors.extend((branch or {}).get("pageProcessors") or [])
    for step in [*(doc.get("pageGenerators") or []), *processors]:
        if isinstance(step, dict):
            step_id = step.get("_exportId") or step.get("_importId")
            if step_id and step_id not in found:
                found.append(step_id)
    return tuple(found)

"""Error Management 2.0: a run's errors kept per flow step, resolved and retried by id.

Errors live in `store.flow_errors` under "{flowId}/{stepId}", open and resolved together (a
resolved one has `resolvedAt`). A run records them when it ends (`step_errors_record`, called
by the job engine while the account is in EM 2.0 mode); the handlers in
`responses/flow_errors.py` list, resolve and retry them. What the docs leave open is in
`assumptions.py` ("Error Management 2.0").
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from multidict import MultiMapping

from sandbox import assumptions
from sandbox.exceptions import (
    InvalidField,
    InvalidQueryParams,
    MissingRequiredField,
    NotFound,
)
from sandbox.models.documents import require_object
from sandbox.models.flow_rules import flow_steps
from sandbox.models.object_ids import new_object_id
from sandbox.models.store import Store
from sandbox.models.timestamps import duration_text, epoch_from_query, iso_from_epoch, wall_time


def record_key(number: int) -> str:
    """The key of the run's `number`th failed record (0-based), as an app would name it."""
    return f"record-{number + 1}"


# Internal fields of a stored error: never served on the open list.
RESOLUTION_FIELDS = ("resolvedAt", "resolvedBy")


def step_errors_record(
    store: Store,
    *,
    flow_id: str,
    step_id: str,
    flow_job: dict,
    count: int,
    code: str,
    message: str,
    source: str,
    retriable: bool,
    occurred_at: str,
) -> list[dict]:
    """Add `count` open errors of one step of a run; `retriable` (an error of a record) gives
    each a retryDataKey and the record's key, `traceKey`; an export that read nothing has
    neither."""
    added = []
    for number in range(count):
        error = {
            "errorId": new_object_id(),
            "occurredAt": occurred_at,
            "source": source,
            "code": code,
            "message": message,
            "oIndex": str(number),
            "_flowJobId": flow_job["_id"],
        }
        if retriable:
            error["retryDataKey"] = new_object_id()
            error["traceKey"] = record_key(number)
        added.append(error)
    store.flow_errors.setdefault(_key(flow_id, step_id), []).extend(added)
    return added


def step_require(store: Store, flow_id: str, step_id: str) -> dict:
    """The flow, if `step_id` is one of its exports or imports (404 otherwise)."""
    flow = store.require("flows", flow_id)
    if step_id not in {resource_id for _, resource_id in flow_steps(flow)}:
        raise NotFound(f"The flow has no step {step_id!r}.")
    return flow


def step_errors_page(
    store: Store, *, flow_id: str, step_id: str, resolved: bool, query: MultiMapping[str]
) -> dict:
    """One page of the step's open (or resolved) errors, oldest first, with `nextPageURL`."""
    step_require(store, flow_id, step_id)
    checks = _filters(query)
    matching = [
        _served(error, resolved=resolved)
        for error in store.flow_errors.get(_key(flow_id, step_id), [])
        if bool(error.get("resolvedAt")) == resolved and all(check(error) for check in checks)
    ]
    skip = _skip(query)
    size = assumptions.STEP_ERRORS_PAGE_SIZE
    key = assumptions.RESOLVED_ERRORS_KEY if resolved else assumptions.OPEN_ERRORS_KEY
    body: dict = {key: matching[skip : skip + size]}
    if skip + size < len(matching):
        params = [(name, value) for name, value in query.items() if name != "skip"]
        params.append(("skip", str(skip + size)))
        tail = "resolved" if resolved else "errors"
        body["nextPageURL"] = f"/v1/flows/{flow_id}/{step_id}/{tail}?{urlencode(params)}"
    return body


def step_errors_resolve(store: Store, *, flow_id: str, step_id: str, body: object) -> int:
    """Resolve the open errors named in {"errors": [errorId, ...]}; the number resolved."""
    step_require(store, flow_id, step_id)
    wanted = _id_list(body, "errors")
    now = wall_time()
    resolved = 0
    for error in store.flow_errors.get(_key(flow_id, step_id), []):
        if error["errorId"] in wanted and not error.get("resolvedAt"):
            _resolve(store, error, by="user", at=now)
            resolved += 1
    if resolved:
        store.changed()
    return resolved


def step_errors_retry(
    store: Store,
    *,
    flow_id: str,
    step_id: str,
    body: object,
    fails_again: Callable[[int], int],
    insert_job: Callable[[str, dict, dict], dict],
    run_seconds: float = 0.0,
) -> dict:
    """Retry the open errors whose retryDataKey is in {"retryDataKeys": [...]}: the retry
    job, ended, or with `run_seconds` running (`step_errors_retries_end` ends it).
    `fails_again(n)` says how many of the n retried records fail again."""
    flow = step_require(store, flow_id, step_id)
    wanted = _id_list(body, "retryDataKeys")
    errors = store.flow_errors.get(_key(flow_id, step_id), [])
    retried = [e for e in errors if e.get("retryDataKey") in wanted and not e.get("resolvedAt")]
    if not retried:
        raise InvalidField(
            "None of the retryDataKeys is an open error of this step.", field="retryDataKeys"
        )
    now = wall_time()
    failing = min(len(retried), max(0, fails_again(len(retried))))
    again = []
    for position, error in enumerate(retried):
        _resolve(store, error, by="retry", at=now)
        if position < failing:
            again.append({k: v for k, v in error.items() if k not in RESOLUTION_FIELDS})
    runs = {error["_flowJobId"] for error in retried}
    extra = {"_flowJobId": runs.pop()} if len(runs) == 1 else {}
    job = insert_job("retry", flow, extra)
    stamp = iso_from_epoch(now)
    job.update(status="running", startedAt=stamp, lastModified=stamp)
    plan = {
        "key": _key(flow_id, step_id),
        "startAt": now,
        "endsAt": now + run_seconds,
        "retried": len(retried),
        "again": again,
    }
    if run_seconds > 0:
        store.retry_plans[job["_id"]] = plan
    else:
        _retry_end(store, job, plan)
    store.changed()
    return job


def step_errors_retries_end(store: Store, now: float) -> None:
    """End the running retry jobs whose time has come: the records that failed again are
    open errors from then on."""
    for job_id, plan in list(store.retry_plans.items()):
        if now < plan["endsAt"]:
            continue
        del store.retry_plans[job_id]
        job = store.get("jobs", job_id)
        if job is not None:
            _retry_end(store, job, plan)
        store.changed()


def _retry_end(store: Store, job: dict, plan: dict) -> None:
    at = plan["endsAt"]
    errors = store.flow_errors.setdefault(plan["key"], [])
    for error in plan["again"]:
        error = {**error, "errorId": new_object_id(), "occurredAt": iso_from_epoch(at)}
        errors.append(error)
        _count_open(store, error["_flowJobId"], +1)
    failing = len(plan["again"])
    stamp = iso_from_epoch(at)
    job.update(
        status="completed",
        numSuccess=plan["retried"] - failing,
        numError=failing,
        numOpenError=failing,
        endedAt=stamp,
        lastModified=stamp,
        duration=duration_text(at - plan["startAt"]),
    )


# --- internals ---------------------------------------------------------------------------


def _key(flow_id: str, step_id: str) -> str:
    return f"{flow_id}/{step_id}"


def _served(error: dict, *, resolved: bool) -> dict:
    if resolved:
        return dict(error)
    return {k: v for k, v in error.items() if k not in RESOLUTION_FIELDS}


def _resolve(store: Store, error: dict, *, by: str, at: float) -> None:
    error["resolvedAt"] = iso_from_epoch(at)
    error["resolvedBy"] = by
    _count_open(store, error["_flowJobId"], -1)


def _count_open(store: Store, flow_job_id: str, change: int) -> None:
    """Keep the run's `numOpenError`/`numResolved` (and `lastModified`) in step, as the
    dashboard's counts do, so that a reader of the job sees resolutions."""
    job = store.get("jobs", flow_job_id)
    if job is None:
        return
    job["numOpenError"] = max(0, job.get("numOpenError", 0) + change)
    if change < 0:
        job["numResolved"] = job.get("numResolved", 0) - change
    job["lastModified"] = iso_from_epoch(wall_time())


def _id_list(body: object, name: str) -> set[str]:
    doc = require_object(body if body is not None else {})
    if name not in doc:
        raise MissingRequiredField(name)
    ids = doc[name]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise InvalidField(f"{name} must be a non-empty array of ids.", field=name)
    if len(ids) > assumptions.STEP_ERRORS_MAX_IDS:
        raise InvalidField(
            f"At most {assumptions.STEP_ERRORS_MAX_IDS} ids per request.", field=name
        )
    return set(ids)


def _filters(query: MultiMapping[str]) -> list[Callable[[dict], bool]]:
    checks: list[Callable[[dict], bool]] = []
    for bound, keep in (("gte", lambda a, b: a >= b), ("lte", lambda a, b: a <= b)):
        name = f"occurredAt_{bound}"
        if query.get(name):
            try:
                limit = iso_from_epoch(epoch_from_query(query[name]))
            except ValueError:
                raise InvalidQueryParams(f"{name} is not a valid date.", field=name) from None
            checks.append(lambda e, keep=keep, limit=limit: keep(e["occurredAt"], limit))
    sources = query.getall("source", [])
    if sources:
        checks.append(lambda e: e.get("source") in sources)
    return checks


def _skip(query: MultiMapping[str]) -> int:
    raw = query.get("skip", "0")
    if not raw.isdigit():
        raise InvalidQueryParams("skip must be a non-negative integer.", field="skip")
    return int(raw)

"""`GET /jobs`: the documented filters, the parent/child query rules, newest first.

There is no cursor: a page holds up to 1001 jobs in descending `createdAt`; the next page is
asked with `createdAt_lte` = the last job's `createdAt` minus 1 ms.
"""

from multidict import MultiMapping

from sandbox import assumptions
from sandbox.exceptions import InvalidQuery, InvalidQueryParams
from sandbox.models.timestamps import epoch_from_query, iso_from_epoch

EQUAL_FILTERS = (
    "_integrationId",
    "_exportId",
    "_importId",
    "_flowId",
    "_flowJobId",
    "_bulkJobId",
    "status",
)
COUNT_FILTERS = ("numSuccess", "numError", "numExport", "numIgnore")


def jobs_query(jobs: list[dict], query: MultiMapping[str]) -> list[dict]:
    """Filter `jobs` (in creation order) per `query` and return a page, newest first."""
    types = _requested_types(query)
    child_mode = bool(types) and all(t in assumptions.CHILD_JOB_TYPES for t in types)
    if child_mode:
        if not any(query.get(key) for key in assumptions.CHILD_JOB_QUERY_KEYS):
            raise InvalidQuery(assumptions.CHILD_QUERY_MESSAGE)
    elif not any(query.get(key) for key in assumptions.PARENT_JOB_QUERY_KEYS):
        raise InvalidQuery(assumptions.PARENT_QUERY_MESSAGE)
    wanted_types = set(types) if types else set(assumptions.PARENT_JOB_TYPES)
    checks = _checks(query)
    page = []
    for job in reversed(jobs):
        if job["type"] in wanted_types and all(check(job) for check in checks):
            page.append(job)
            if len(page) >= assumptions.JOBS_PAGE_SIZE:
                break
    return page


def _requested_types(query: MultiMapping[str]) -> list[str]:
    if query.get("type"):
        return [query["type"]]
    if query.get("type_in"):
        return [part.strip() for part in query["type_in"].split(",") if part.strip()]
    return []


def _checks(query: MultiMapping[str]) -> list:
    checks = []
    for name in EQUAL_FILTERS:
        if query.get(name):
            checks.append(lambda job, name=name, value=query[name]: job.get(name) == value)
    if query.get("_jobId"):
        checks.append(lambda job, value=query["_jobId"]: job["_id"] == value)
    if query.get("_flowId_in"):
        flow_ids = {part.strip() for part in query["_flowId_in"].split(",")}
        checks.append(lambda job: job.get("_flowId") in flow_ids)
    for bound, keep in (("gte", lambda a, b: a >= b), ("lte", lambda a, b: a <= b)):
        raw = query.get(f"createdAt_{bound}")
        if raw:
            limit = _as_iso(raw, f"createdAt_{bound}")
            checks.append(lambda job, keep=keep, limit=limit: keep(job["createdAt"], limit))
        for name in COUNT_FILTERS:
            raw = query.get(f"{name}_{bound}")
            if raw:
                limit = _as_int(raw, f"{name}_{bound}")
                checks.append(
                    lambda job, name=name, keep=keep, limit=limit: keep(job.get(name, 0), limit)
                )
    if query.get("retriable"):
        wanted = query["retriable"].lower() == "true"
        checks.append(lambda job: bool(job.get("retriable")) == wanted)
    return checks


def _as_iso(raw: str, name: str) -> str:
    """Normalise a query date to the stored format, which compares correctly as text."""
    try:
        return iso_from_epoch(epoch_from_query(raw))
    except ValueError:
        raise InvalidQueryParams(f"{name} is not a valid date.", field=name) from None


def _as_int(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InvalidQueryParams(f"{name} must be an integer.", field=name) from None

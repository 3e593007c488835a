"""IntegratorClient: one method per integrator.io operation the service uses.

Each method's docstring names its endpoint (relative to the `/v1` base URL). Lists follow the
`Link` header and treat 204 as empty; jobs page by `createdAt_lte` instead, and a flow step's
errors (Error Management 2.0) by the `nextPageURL` of the body. Methods return
small typed objects (see resources.py) and raise the errors in errors.py.

Thread safety: one client may be shared by the threads of a worker (see transport.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import urllib3

from integrator import quirks
from integrator.circuit_breaker import CircuitBreaker
from integrator.errors import OutcomeUnknownError, UnexpectedResponseError, ValidationError
from integrator.pause import SendPause
from integrator.rate_limit import DEFAULT_MAX_WAIT, RateLimiter
from integrator.resources import (
    CloneItem,
    CloneManifest,
    Connection,
    Export,
    Flow,
    FlowRun,
    Import,
    Integration,
    Job,
    JobError,
    PingResult,
    StepError,
    StepErrorRetry,
    TokenInfo,
    parse,
)
from integrator.transport import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_SECONDS,
    DEFAULT_POOL_MAXSIZE,
    DEFAULT_TIMEOUT,
    CallRecord,
    Timeout,
    Transport,
)

Document = dict[str, Any]
Change = Callable[[Document], Any]
PatchOperations = Sequence[Mapping[str, Any]]
T = TypeVar("T")


def replace_operations(fields: Mapping[str, Any]) -> list[Document]:
    """RFC 6902 `replace` operations for top-level fields: {"disabled": False} -> [...]."""
    return [{"op": "replace", "path": f"/{name}", "value": value} for name, value in fields.items()]


def _segment(resource_id: str) -> str:
    if not isinstance(resource_id, str) or not resource_id:
        raise ValueError("a resource id must be a non-empty string")
    return quote(resource_id, safe="")


class IntegratorClient:
    """A client for one integrator.io account (one API token).

    >>> client = IntegratorClient("https://api.integrator.io/v1", token,
    ...                           timeout=(5, 30), rate_limiter=bucket, on_call=store_call)
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        rate_limiter: RateLimiter | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        pool: urllib3.PoolManager | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
        trust_env: bool = False,
        circuit_breaker: CircuitBreaker | None = None,
        send_pause: SendPause | None = None,
        max_pause_wait: float = DEFAULT_MAX_WAIT,
        budget_seconds: float | None = None,
    ) -> None:
        self._transport = Transport(
            base_url,
            token,
            timeout=timeout,
            rate_limiter=rate_limiter,
            on_call=on_call,
            pool=pool,
            max_attempts=max_attempts,
            max_retry_seconds=max_retry_seconds,
            pool_maxsize=pool_maxsize,
            trust_env=trust_env,
            circuit_breaker=circuit_breaker,
            send_pause=send_pause,
            max_pause_wait=max_pause_wait,
            budget_seconds=budget_seconds,
        )

    def __repr__(self) -> str:
        return (
            f"IntegratorClient(base_url={self._transport.base_url!r}, "
            f"token_fingerprint={self._transport.token_fingerprint!r})"
        )

    @property
    def account_identity(self) -> str:
        """`<base URL>#<token fingerprint>`: which account (and region) this client talks to,
        without the token, for what callers remember per account."""
        return f"{self._transport.base_url}#{self._transport.token_fingerprint}"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> IntegratorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        url = self._transport.url_for(path, params)
        return self._transport.request(method, url, json=json, idempotent=idempotent).body

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Document]:
        """Every item of a list, following `Link: <...>; rel="next"` (docs/integrator-io.md)."""
        url: str | None = self._transport.url_for(path, params)
        seen: set[str] = set()
        while url and url not in seen:
            seen.add(url)
            response = self._transport.request("GET", url)
            yield from quirks.list_from_body(response.body)
            url = self._transport.follow(response.next_url) if response.next_url else None

    def _create(self, path: str, body: Any, read: Callable[[Any], T]) -> T:
        """POST that creates something: an answer we cannot read leaves its outcome unknown."""
        answer = self._call("POST", path, json=body)
        try:
            return read(answer)
        except UnexpectedResponseError as error:
            raise OutcomeUnknownError(
                f"the remote accepted the request but its answer is unreadable: {error.message}",
                method="POST",
                path=urlsplit(self._transport.url_for(path)).path,
                status=error.status,
            ) from None

    def _modify(self, path: str, change: Change) -> Document:
        current = self._call("GET", path)
        return self._call("PUT", path, json=quirks.replacement_document(current, change))

    # --- token ------------------------------------------------------------------------------

    def get_token_info(self) -> TokenInfo:
        """GET /tokenInfo: the user the token belongs to."""
        return parse(TokenInfo, self._call("GET", "/tokenInfo"))

    # --- connections --------------------------------------------------------------------------

    def list_connections(self) -> list[Connection]:
        """GET /connections (all pages; 204 means none)."""
        return [parse(Connection, doc) for doc in self._pages("/connections")]

    def get_connection(self, connection_id: str) -> Connection:
        """GET /connections/{_id}. Secrets come back as "******"."""
        return parse(Connection, self._call("GET", f"/connections/{_segment(connection_id)}"))

    def create_connection(self, body: Document) -> Connection:
        """POST /connections. Not retried once sent: a lost answer raises OutcomeUnknownError."""
        return self._create("/connections", body, lambda answer: parse(Connection, answer))

    def update_connection(self, connection_id: str, body: Document) -> Connection:
        """PUT /connections/{_id}: a full replace.

        There is no read-change-write for connections: a fetched connection has its secrets
        masked, so the body must be rebuilt from the tenant's credentials
        (docs/integrator-io.md, Connections).
        """
        path = f"/connections/{_segment(connection_id)}"
        return parse(Connection, self._call("PUT", path, json=body))

    def patch_connection(self, connection_id: str, operations: PatchOperations) -> None:
        """PATCH /connections/{_id} with RFC 6902 operations: the way to change one field of a
        connection, since a fetched one has its secrets masked (see `replace_operations`)."""
        self._call("PATCH", f"/connections/{_segment(connection_id)}", json=list(operations))

    def delete_connection(self, connection_id: str) -> None:
        """DELETE /connections/{_id}."""
        self._call("DELETE", f"/connections/{_segment(connection_id)}")

    def ping_connection(self, connection_id: str) -> PingResult:
        """POST /connections/{_id}/ping: test a saved connection (see quirks for failures)."""
        path = f"/connections/{_segment(connection_id)}/ping"
        body = {} if quirks.PING_METHOD == "POST" else None
        return self._ping(quirks.PING_METHOD, path, body)

    def ping_virtual_connection(self, body: Document) -> PingResult:
        """POST /connections/ping: test a connection document without saving it."""
        return self._ping("POST", "/connections/ping", body)

    def _ping(self, method: str, path: str, body: Document | None) -> PingResult:
        try:
            answer = self._call(method, path, json=body, idempotent=quirks.PING_IS_SAFE_TO_REPEAT)
        except ValidationError as error:
            if error.status not in quirks.PING_FAILURE_STATUSES:
                raise
            return PingResult(ok=False, errors=error.errors, status=error.status)
        ok, errors = quirks.ping_outcome(answer)
        return PingResult(ok=ok, errors=errors, status=200)

    # --- integrations -----------------------------------------------------------------------

    def list_integrations(
        self, *, include: Sequence[str] | None = None, exclude: Sequence[str] | None = None
    ) -> list[Integration]:
        """GET /integrations?include=a,b|exclude=a,b (all pages). Projections keep _id, name."""
        params = {
            "include": ",".join(include) if include else None,
            "exclude": ",".join(exclude) if exclude else None,
        }
        return [parse(Integration, doc) for doc in self._pages("/integrations", params)]

    def get_integration(self, integration_id: str) -> Integration:
        """GET /integrations/{_id}."""
        return parse(Integration, self._call("GET", f"/integrations/{_segment(integration_id)}"))

    def create_integration(self, body: Document) -> Integration:
        """POST /integrations. Not retried once sent: a lost answer raises OutcomeUnknownError."""
        return self._create("/integrations", body, lambda answer: parse(Integration, answer))

    def update_integration(self, integration_id: str, body: Document) -> Integration:
        """PUT /integrations/{_id}: a full replace; prefer `modify_integration`."""
        path = f"/integrations/{_segment(integration_id)}"
        return parse(Integration, self._call("PUT", path, json=body))

    def modify_integration(self, integration_id: str, change: Change) -> Integration:
        """GET then PUT /integrations/{_id}: `change` edits a copy of the whole document.

        >>> client.modify_integration(iid, lambda doc: doc["settings"].update(region="eu"))
        """
        return parse(Integration, self._modify(f"/integrations/{_segment(integration_id)}", change))

    def patch_integration(self, integration_id: str, operations: PatchOperations) -> None:
        """PATCH /integrations/{_id} with RFC 6902 operations (see `replace_operations`)."""
        self._call("PATCH", f"/integrations/{_segment(integration_id)}", json=list(operations))

    def delete_integration(self, integration_id: str) -> None:
        """DELETE /integrations/{_id}. Does not cascade to flows, exports, imports."""
        self._call("DELETE", f"/integrations/{_segment(integration_id)}")

    def clone_integration(
        self,
        integration_id: str,
        *,
        name: str | None = None,
        connection_map: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CloneManifest:
        """POST /integrations/{_id}/clone with {name, connectionMap}.

        Not retried once sent: a lost answer raises OutcomeUnknownError, and the caller should
        look for the clone by name before trying again.
        """
        body: Document = dict(extra or {})
        if name is not None:
            body["name"] = name
        if connection_map is not None:
            body["connectionMap"] = dict(connection_map)
        path = f"/integrations/{_segment(integration_id)}/clone"
        return self._create(path, body, lambda answer: parse(CloneManifest, answer))

    def clone_flow(
        self,
        flow_id: str,
        *,
        integration_id: str,
        connection_map: Mapping[str, str],
        name: str | None = None,
    ) -> tuple[CloneItem, ...]:
        """POST /flows/{_id}/clone into the integration `integration_id` (required by the API,
        as is a connectionMap when the flow uses connections). Returns the manifest's items:
        the new flow and its new exports and imports. Not retried once sent, like any clone.
        """
        body: Document = {"_integrationId": integration_id, "connectionMap": dict(connection_map)}
        if name is not None:
            body["name"] = name
        path = f"/flows/{_segment(flow_id)}/clone"
        return self._create(
            path,
            body,
            lambda answer: tuple(CloneItem(*item) for item in quirks.flow_clone_items(answer)),
        )

    def replace_connection(self, kind: str, resource_id: str, connection_id: str) -> None:
        """PUT /{exports|imports}/{_id}/replaceConnection {"_newConnectionId"}: the documented
        way to point a step at another connection (docs/integrator-io.md)."""
        if kind not in ("export", "import"):
            raise ValueError("replace_connection takes an export or an import")
        path = f"/{kind}s/{_segment(resource_id)}/replaceConnection"
        self._call("PUT", path, json={"_newConnectionId": connection_id})

    def list_integration_flows(self, integration_id: str) -> list[Flow]:
        """GET /integrations/{_id}/flows (all pages)."""
        path = f"/integrations/{_segment(integration_id)}/flows"
        return [parse(Flow, doc) for doc in self._pages(path)]

    def list_integration_exports(self, integration_id: str) -> list[Export]:
        """GET /integrations/{_id}/exports (all pages)."""
        path = f"/integrations/{_segment(integration_id)}/exports"
        return [parse(Export, doc) for doc in self._pages(path)]

    def list_integration_imports(self, integration_id: str) -> list[Import]:
        """GET /integrations/{_id}/imports (all pages)."""
        path = f"/integrations/{_segment(integration_id)}/imports"
        return [parse(Import, doc) for doc in self._pages(path)]

    def list_integration_connections(self, integration_id: str) -> list[Connection]:
        """GET /integrations/{_id}/connections (all pages)."""
        path = f"/integrations/{_segment(integration_id)}/connections"
        return [parse(Connection, doc) for doc in self._pages(path)]

    # --- flows ------------------------------------------------------------------------------

    def list_flows(self) -> list[Flow]:
        """GET /flows (all pages; 204 means none)."""
        return [parse(Flow, doc) for doc in self._pages("/flows")]

    def get_flow(self, flow_id: str) -> Flow:
        """GET /flows/{_id}."""
        return parse(Flow, self._call("GET", f"/flows/{_segment(flow_id)}"))

    def update_flow(self, flow_id: str, body: Document) -> Flow:
        """PUT /flows/{_id}: a full replace; prefer `modify_flow` or `patch_flow`."""
        return parse(Flow, self._call("PUT", f"/flows/{_segment(flow_id)}", json=body))

    def modify_flow(self, flow_id: str, change: Change) -> Flow:
        """GET then PUT /flows/{_id}: `change` edits a copy of the whole document."""
        return parse(Flow, self._modify(f"/flows/{_segment(flow_id)}", change))

    def patch_flow(self, flow_id: str, operations: PatchOperations) -> None:
        """PATCH /flows/{_id} (204). Patchable: name, disabled, schedule, timezone...
        (docs/integrator-io.md, Transport).

        >>> client.patch_flow(fid, replace_operations({"disabled": False}))
        """
        self._call("PATCH", f"/flows/{_segment(flow_id)}", json=list(operations))

    def delete_flow(self, flow_id: str) -> None:
        """DELETE /flows/{_id}."""
        self._call("DELETE", f"/flows/{_segment(flow_id)}")

    def run_flow(self, flow_id: str, body: Document | None = None) -> FlowRun:
        """POST /flows/{_id}/run. Never retried once sent (a second run would be a second job).

        The answer's shape is undocumented (see quirks); without a job id in it, the newest
        flow job of this flow is taken.
        """
        answer = self._call("POST", f"/flows/{_segment(flow_id)}/run", json=body or {})
        job_id = quirks.job_id_from_run_response(answer)
        if job_id is None:
            jobs = self.list_jobs(flow_id=flow_id, type="flow")
            if not jobs:
                raise OutcomeUnknownError(
                    "the flow run was accepted but no job for it was found",
                    method="POST",
                    path=f"/flows/{flow_id}/run",
                )
            newest = max(jobs, key=lambda job: job.created_at or datetime.min.replace(tzinfo=UTC))
            job_id = newest.id
        return FlowRun(flow_id=flow_id, job_id=job_id, raw=answer)

    # --- exports and imports -------------------------------------------------------------------

    def list_exports(self) -> list[Export]:
        """GET /exports (all pages)."""
        return [parse(Export, doc) for doc in self._pages("/exports")]

    def get_export(self, export_id: str) -> Export:
        """GET /exports/{_id}."""
        return parse(Export, self._call("GET", f"/exports/{_segment(export_id)}"))

    def update_export(self, export_id: str, body: Document) -> Export:
        """PUT /exports/{_id}: a full replace; prefer `modify_export`."""
        return parse(Export, self._call("PUT", f"/exports/{_segment(export_id)}", json=body))

    def modify_export(self, export_id: str, change: Change) -> Export:
        """GET then PUT /exports/{_id}. Refused if the document holds a masked secret."""
        return parse(Export, self._modify(f"/exports/{_segment(export_id)}", change))

    def delete_export(self, export_id: str) -> None:
        """DELETE /exports/{_id}."""
        self._call("DELETE", f"/exports/{_segment(export_id)}")

    def list_imports(self) -> list[Import]:
        """GET /imports (all pages)."""
        return [parse(Import, doc) for doc in self._pages("/imports")]

    def get_import(self, import_id: str) -> Import:
        """GET /imports/{_id}."""
        return parse(Import, self._call("GET", f"/imports/{_segment(import_id)}"))

    def update_import(self, import_id: str, body: Document) -> Import:
        """PUT /imports/{_id}: a full replace; prefer `modify_import`."""
        return parse(Import, self._call("PUT", f"/imports/{_segment(import_id)}", json=body))

    def modify_import(self, import_id: str, change: Change) -> Import:
        """GET then PUT /imports/{_id}. Refused if the document holds a masked secret."""
        return parse(Import, self._modify(f"/imports/{_segment(import_id)}", change))

    def delete_import(self, import_id: str) -> None:
        """DELETE /imports/{_id}."""
        self._call("DELETE", f"/imports/{_segment(import_id)}")

    # --- jobs ------------------------------------------------------------------------------

    def list_jobs(
        self,
        *,
        integration_id: str | None = None,
        flow_id: str | None = None,
        flow_job_id: str | None = None,
        export_id: str | None = None,
        import_id: str | None = None,
        type: str | None = None,
        status: str | None = None,
        created_at_gte: datetime | str | None = None,
        created_at_lte: datetime | str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> list[Job]:
        """GET /jobs with filters: ONE page, newest first (up to 1001 on integrator.io).

        Parent jobs need an integration, flow, export, import or createdAt filter; child jobs
        (type=export|import) a flow job, export or import id; otherwise ValidationError
        (400 invalid_query). Use `iter_jobs` for every page.
        """
        params = {
            "_integrationId": integration_id,
            "_flowId": flow_id,
            "_flowJobId": flow_job_id,
            "_exportId": export_id,
            "_importId": import_id,
            "type": type,
            "status": status,
            "createdAt_gte": quirks.jobs_query_timestamp(created_at_gte),
            "createdAt_lte": quirks.jobs_query_timestamp(created_at_lte),
            **(extra or {}),
        }
        body = self._call("GET", "/jobs", params=params)
        return [parse(Job, doc) for doc in quirks.list_from_body(body)]

    def iter_jobs(self, **filters: Any) -> Iterator[Job]:
        """GET /jobs page after page (createdAt_lte paging); filters as list_jobs."""
        seen: set[str] = set()
        while True:
            page = self.list_jobs(**filters)
            fresh = [job for job in page if job.id not in seen]
            if not fresh:
                return
            for job in fresh:
                seen.add(job.id)
                yield job
            stamps = [job.created_at for job in page if job.created_at is not None]
            if not stamps:
                return
            filters["created_at_lte"] = quirks.next_jobs_created_at_lte(min(stamps))

    def get_job(self, job_id: str) -> Job:
        """GET /jobs/{_id}."""
        return parse(Job, self._call("GET", f"/jobs/{_segment(job_id)}"))

    def cancel_job(self, job_id: str) -> None:
        """PUT /jobs/{_id}/cancel. The job then goes canceling -> canceled."""
        self._call("PUT", f"/jobs/{_segment(job_id)}/cancel")

    def list_job_errors(self, job_id: str) -> list[JobError]:
        """GET /jobs/{_id}/joberrors (at most 1000 errors; more need the error file)."""
        body = self._call("GET", f"/jobs/{_segment(job_id)}/joberrors")
        return [parse(JobError, doc) for doc in quirks.list_from_body(body)]

    # --- flow step errors (Error Management 2.0) ------------------------------------------------

    def list_step_errors(
        self,
        flow_id: str,
        step_id: str,
        *,
        resolved: bool = False,
        occurred_at_gte: datetime | str | None = None,
        occurred_at_lte: datetime | str | None = None,
    ) -> list[StepError]:
        """GET /flows/{flowId}/{stepId}/errors (open) or /resolved, every page.

        `step_id` is the id of one of the flow's exports or imports (`Flow.step_ids`).
        An account on Error Management 1.0 keeps errors in `list_job_errors` instead.
        """
        tail = "resolved" if resolved else "errors"
        params = {
            "occurredAt_gte": quirks.jobs_query_timestamp(occurred_at_gte),
            "occurredAt_lte": quirks.jobs_query_timestamp(occurred_at_lte),
        }
        url: str | None = self._transport.url_for(
            f"/flows/{_segment(flow_id)}/{_segment(step_id)}/{tail}", params
        )
        base_path = urlsplit(self._transport.base_url).path
        seen: set[str] = set()
        errors: list[StepError] = []
        while url and url not in seen:
            seen.add(url)
            body = self._transport.request("GET", url).body
            items, next_url = quirks.step_errors_page(body, resolved=resolved)
            errors.extend(
                parse_step_error(doc, flow_id=flow_id, step_id=step_id, resolved=resolved)
                for doc in items
            )
            url = (
                self._transport.follow(quirks.step_errors_next_path(next_url, base_path))
                if next_url
                else None
            )
        return errors

    def resolve_step_errors(self, flow_id: str, step_id: str, error_ids: Sequence[str]) -> None:
        """PUT /flows/{flowId}/{stepId}/resolved {"errors": [errorId, ...]} (204), in calls of
        at most 1000 ids. Resolving is idempotent, so a lost answer may be sent again."""
        path = f"/flows/{_segment(flow_id)}/{_segment(step_id)}/resolved"
        for chunk in _chunks(error_ids, quirks.STEP_ERRORS_PER_CALL):
            self._call("PUT", path, json={"errors": chunk})

    def retry_step_errors(
        self,
        flow_id: str,
        step_id: str,
        retry_data_keys: Sequence[str] = (),
        *,
        error_ids: Sequence[str] = (),
    ) -> list[StepErrorRetry]:
        """POST /flows/{flowId}/{stepId}/retry {"retryDataKeys": [...]}, in calls of at most
        1000 keys; one retry job per call. Never repeated once sent (a second call would be a
        second retry).

        The API retries by `retryDataKey`; `error_ids` are turned into keys by reading the
        step's open errors first (one more list), for callers that hold only error ids.
        """
        keys = list(retry_data_keys)
        if error_ids:
            wanted = set(error_ids)
            keys += [
                error.retry_data_key
                for error in self.list_step_errors(flow_id, step_id)
                if error.error_id in wanted and error.retry_data_key
            ]
        path = f"/flows/{_segment(flow_id)}/{_segment(step_id)}/retry"
        retries = []
        for chunk in _chunks(list(dict.fromkeys(keys)), quirks.STEP_ERRORS_PER_CALL):
            answer = self._call("POST", path, json={"retryDataKeys": chunk})
            retries.append(StepErrorRetry(job_id=quirks.retry_job_id(answer), raw=answer))
        return retries


def parse_step_error(doc: Any, *, flow_id: str, step_id: str, resolved: bool) -> StepError:
    try:
        return StepError.from_api(doc, flow_id=flow_id, step_id=step_id, resolved=resolved)
    except (KeyError, TypeError, AttributeError) as error:
        raise UnexpectedResponseError(
            f"response is not a StepError document ({type(error).__name__}: {error})"
        ) from None


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]

"""Small typed views of the integrator.io documents the service reads.

Each object keeps the whole document in `.raw` (hidden from repr) because many schemas are
open (integration `settings`, connection sub-objects) and a PUT needs the full document.
Reprs show ids and names only, never document contents, so secrets cannot leak through them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self, TypeVar

from integrator import quirks
from integrator.errors import ErrorDetail, UnexpectedResponseError

Document = dict[str, Any]
T = TypeVar("T")


def parse(cls: type[T], doc: Any) -> T:
    """`cls.from_api(doc)`, turning a document of the wrong shape into UnexpectedResponseError."""
    try:
        return cls.from_api(doc)  # type: ignore[attr-defined]
    except (KeyError, TypeError, AttributeError) as error:
        raise UnexpectedResponseError(
            f"response is not a {cls.__name__} document ({type(error).__name__}: {error})"
        ) from None


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 string (with or without ms, with `Z`) or epoch milliseconds, as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _text_or_none(value: Any) -> str | None:
    """A key as text (an app's record key may come as a number); None for none or empty."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value) or None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    user_id: str
    scope: str | None
    raw: Document = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, doc: Document) -> TokenInfo:
        return cls(user_id=str(doc.get("_userId", "")), scope=doc.get("scope"), raw=doc)


@dataclass(frozen=True, slots=True)
class Connection:
    id: str
    name: str
    type: str
    offline: bool
    sandbox: bool
    raw: Document = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, doc: Document) -> Connection:
        return cls(
            id=doc["_id"],
            name=doc.get("name", ""),
            type=doc.get("type", ""),
            offline=bool(doc.get("offline", False)),
            sandbox=bool(doc.get("sandbox", False)),
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class PingResult:
    """Outcome of a connection test. `ok` is False when the remote reported any error."""

    ok: bool
    errors: tuple[ErrorDetail, ...] = ()
    status: int | None = None

    @property
    def message(self) -> str:
        return "; ".join(error.message for error in self.errors)


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    name: str
    description: str
    version: str | None
    mode: str | None
    update_in_progress: bool
    sandbox: bool
    settings: Document = field(repr=False, compare=False)
    raw: Document = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, doc: Document) -> Integration:
        settings = doc.get("settings")
        return cls(
            id=doc["_id"],
            name=doc.get("name", ""),
            description=doc.get("description") or "",
            version=doc.get("version"),
            mode=doc.get("mode"),
            update_in_progress=bool(doc.get("updateInProgress", False)),
            sandbox=bool(doc.get("sandbox", False)),
            settings=settings if isinstance(settings, dict) else {},
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    name: str
    integration_id: str | None
    disabled: bool
    schedule: str | None
    timezone: str | None
    source_id: str | None
    export_ids: tuple[str, ...]
    raw: Document = field(repr=False, compare=False)

    @property
    def step_ids(self) -> tuple[str, ...]:
        """The ids of the flow's exports and imports, in order: the `stepId`s under which
        Error Management 2.0 keeps errors (page generators, processors, routers' branches)."""
        return quirks.flow_step_ids(self.raw)

    @classmethod
    def from_api(cls, doc: Document) -> Flow:
        generators = doc.get("pageGenerators") or []
        return cls(
            id=doc["_id"],
            name=doc.get("name", ""),
            integration_id=doc.get("_integrationId"),
            disabled=bool(doc.get("disabled", False)),
            schedule=doc.get("schedule"),
            timezone=doc.get("timezone"),
            source_id=doc.get("_sourceId"),
            export_ids=tuple(
                g["_exportId"] for g in generators if isinstance(g, dict) and g.get("_exportId")
            ),
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class Export:
    id: str
    name: str
    connection_id: str | None
    integration_id: str | None
    adaptor_type: str | None
    api_identifier: str | None
    raw: Document = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, doc: Document) -> Self:
        return cls(
            id=doc["_id"],
            name=doc.get("name", ""),
            connection_id=doc.get("_connectionId"),
            integration_id=doc.get("_integrationId"),
            adaptor_type=doc.get("adaptorType"),
            api_identifier=doc.get("apiIdentifier"),
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class Import(Export):
    """Same wiring fields as an export (docs/integrator-io.md, Integrations and cloning)."""


class JobStatus(StrEnum):
    """Job statuses in their canonical spelling (see `quirks.normalize_job_status`)."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELED = "canceled"


FINISHED_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    type: str
    status: str
    integration_id: str | None
    flow_id: str | None
    flow_job_id: str | None
    export_id: str | None
    import_id: str | None
    created_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    num_success: int
    num_error: int
    num_ignore: int
    num_pages_generated: int
    retriable: bool
    raw: Document = field(repr=False, compare=False)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES

    @classmethod
    def from_api(cls, doc: Document) -> Job:
        return cls(
            id=doc["_id"],
            type=doc.get("type", ""),
            status=quirks.normalize_job_status(doc.get("status")),
            integration_id=doc.get("_integrationId"),
            flow_id=doc.get("_flowId"),
            flow_job_id=doc.get("_flowJobId"),
            export_id=doc.get("_exportId"),
            import_id=doc.get("_importId"),
            created_at=parse_timestamp(doc.get("createdAt")),
            started_at=parse_timestamp(doc.get("startedAt")),
            ended_at=parse_timestamp(doc.get("endedAt")),
            num_success=_int(doc.get("numSuccess")),
            num_error=_int(doc.get("numError")),
            num_ignore=_int(doc.get("numIgnore")),
            num_pages_generated=_int(doc.get("numPagesGenerated")),
            retriable=bool(doc.get("retriable", False)),
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class JobError:
    job_id: str | None
    code: str | None
    message: str
    source: str | None
    created_at: datetime | None
    resolved: bool
    retry_id: str | None
    # The failed record's key, when the error names one (`traceKey`; see StepError).
    trace_key: str | None
    raw: Document = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, doc: Document) -> JobError:
        code = doc.get("code")
        return cls(
            job_id=doc.get("_jobId"),
            code=None if code is None else str(code),
            message=str(doc.get("message", "")),
            source=doc.get("source"),
            created_at=parse_timestamp(doc.get("createdAt")),
            resolved=bool(doc.get("resolve", False)),
            retry_id=doc.get("_retryId"),
            trace_key=_text_or_none(doc.get("traceKey")),
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class StepError:
    """One error of a flow step, Error Management 2.0 (`GET /flows/{flowId}/{stepId}/errors`
    or `/resolved`). `retry_data_key` is None when the error cannot be retried."""

    error_id: str
    flow_id: str
    step_id: str
    run_id: str | None  # `_flowJobId`: the flow job (run) the error belongs to
    code: str | None
    message: str
    source: str | None
    occurred_at: datetime | None
    retry_data_key: str | None
    resolved: bool
    resolved_at: datetime | None
    # `traceKey`: the key of the record that failed (what the UI shows as the record), None
    # when the error names no record (an export that could not read).
    trace_key: str | None
    raw: Document = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, doc: Document, *, flow_id: str, step_id: str, resolved: bool) -> StepError:
        code = doc.get("code")
        return cls(
            error_id=str(doc["errorId"]),
            flow_id=flow_id,
            step_id=step_id,
            run_id=doc.get("_flowJobId"),
            code=None if code is None else str(code),
            message=str(doc.get("message", "")),
            source=doc.get("source"),
            occurred_at=parse_timestamp(doc.get("occurredAt")),
            retry_data_key=doc.get("retryDataKey") or None,
            resolved=resolved,
            resolved_at=parse_timestamp(doc.get("resolvedAt")),
            trace_key=_text_or_none(doc.get("traceKey")),
            raw=doc,
        )


@dataclass(frozen=True, slots=True)
class StepErrorRetry:
    """The answer to `POST /flows/{flowId}/{stepId}/retry`: the retry job, when it says."""

    job_id: str | None
    raw: Any = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class CloneItem:
    model: str
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CloneManifest:
    """Everything a clone created; `integration_id` is the new integration."""

    integration_id: str
    items: tuple[CloneItem, ...]
    raw: Any = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, answer: Any) -> CloneManifest:
        new_id, items = quirks.clone_manifest_items(answer)
        return cls(
            integration_id=new_id,
            items=tuple(CloneItem(model, item_id, name) for model, item_id, name in items),
            raw=answer,
        )

    def ids(self, model: str) -> tuple[str, ...]:
        """Ids of the created objects of one model ("Flow", "Export", "Connection"...)."""
        return tuple(item.id for item in self.items if item.model == model)


@dataclass(frozen=True, slots=True)
class FlowRun:
    """A started flow run. `job_id` is the flow job to poll with `get_job`."""

    flow_id: str
    job_id: str
    raw: Any = field(repr=False, compare=False)

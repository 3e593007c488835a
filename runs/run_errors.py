"""A run's errors: read from integrator.io the way the account keeps them, mirrored in
FlowRunError, and (Error Management 2.0 only) resolved and retried.

Reading costs, per run: EM 2.0 one flow read plus an open and a resolved list per step (more
pages past 100 errors), filtered to the run by `_flowJobId`; EM 1.0 one `joberrors` read
(at most 1000 errors). Every write ends with a fresh read, so the mirror says what
integrator.io says afterwards, not what we hoped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.redaction import redact_text
from integrator.client import IntegratorClient
from integrator.quirks import text_without_nul
from integrator.resources import JobError, StepError
from runs.error_management import EM2, account_error_management
from runs.errors import (
    ErrorManagementUnsupported,
    RunErrorsNoneOpen,
    RunErrorsNoneOpenToResolve,
    RunErrorsNotFound,
    RunErrorsNotRetriable,
)
from runs.models import FlowRun, FlowRunError


@dataclass(frozen=True)
class RetriedRunErrors:
    retry_job_ids: list[str]
    errors: list[FlowRunError]


def run_errors_refresh(*, run: FlowRun, client: IntegratorClient) -> list[FlowRunError]:
    """Read the run's errors from integrator.io and replace its mirrored ones."""
    flow_steps = None
    if run.flow_id:
        flow_steps = client.get_flow(run.flow_id).step_ids
    version = account_error_management(
        client=client,
        flow_id=run.flow_id,
        step_id=flow_steps[0] if flow_steps else None,
        job_id=run.job_id,
    )
    now = timezone.now()
    if version == EM2:
        found = [
            _from_step_error(run, error, now)
            for step_id in flow_steps or ()
            for resolved in (False, True)
            for error in client.list_step_errors(run.flow_id, step_id, resolved=resolved)
            if error.run_id == run.job_id
        ]
    else:
        found = [
            _from_job_error(run, error, position, now)
            for position, error in enumerate(client.list_job_errors(run.job_id))
        ]
    unique = list({row.error_id: row for row in found}.values())
    with transaction.atomic():
        FlowRunError.objects.filter(run=run).delete()
        FlowRunError.objects.bulk_create(unique)
    return list(FlowRunError.objects.filter(run=run))


def run_errors_resolve(
    *,
    run: FlowRun,
    client: IntegratorClient,
    error_ids: Iterable[str] | None = None,
    refuse_none_open: bool = False,
) -> list[FlowRunError]:
    """Mark the run's open errors (all, or those named) resolved; its errors afterwards.

    Asking twice is safe: a named error the run has that is resolved already is left as it
    is (a resolve sent again after a lost answer gets the run's errors, not a 400); only an
    id the run does not have at all is refused. With `refuse_none_open`, all of them when
    none is open is refused (RunErrorsNoneOpenToResolve) rather than answered as done."""
    chosen = _open_errors(run=run, client=client, error_ids=error_ids, resolved_ok=True)
    if not chosen and refuse_none_open:
        raise RunErrorsNoneOpenToResolve(
            "The run has no open errors to resolve: they were resolved or retried already."
        )
    for step_id, rows in _by_step(chosen).items():
        client.resolve_step_errors(run.flow_id, step_id, [row.error_id for row in rows])
    return run_errors_refresh(run=run, client=client)


def run_errors_retry(
    *, run: FlowRun, client: IntegratorClient, error_ids: Iterable[str] | None = None
) -> RetriedRunErrors:
    """Retry the run's open errors that can be retried (all, or those named): one retry job
    per step; the run's errors afterwards (records that failed again are open again)."""
    open_rows = _open_errors(run=run, client=client, error_ids=error_ids)
    if not open_rows:
        raise RunErrorsNoneOpen(
            "The run has no open errors to retry: they were resolved or retried already."
        )
    chosen = [row for row in open_rows if row.retry_data_key]
    if not chosen:
        raise RunErrorsNotRetriable(
            "None of these errors can be retried (integrator.io gave them no retry data)."
        )
    job_ids = []
    for step_id, rows in _by_step(chosen).items():
        retries = client.retry_step_errors(
            run.flow_id, step_id, [row.retry_data_key for row in rows]
        )
        job_ids += [retry.job_id for retry in retries if retry.job_id]
    errors = run_errors_refresh(run=run, client=client)
    return RetriedRunErrors(retry_job_ids=job_ids, errors=errors)


def _open_errors(
    *,
    run: FlowRun,
    client: IntegratorClient,
    error_ids: Iterable[str] | None,
    resolved_ok: bool = False,
) -> list[FlowRunError]:
    """The run's open errors as integrator.io has them now (read first: the mirror may be
    stale), refusing EM 1.0, where errors can neither be resolved nor retried by API.

    A named error that is not open is refused, unless `resolved_ok` and the run has it
    resolved (it is then left out of the answer)."""
    rows = run_errors_refresh(run=run, client=client)
    if _account_version(run=run, client=client) != EM2:
        raise ErrorManagementUnsupported(
            "The integrator.io account uses Error Management 1.0: its errors cannot be "
            "resolved or retried through the API."
        )
    open_rows = [row for row in rows if not row.resolved]
    if error_ids is None:
        return open_rows
    wanted = set(error_ids)
    chosen = [row for row in open_rows if row.error_id in wanted]
    missing = wanted - {row.error_id for row in chosen}
    if resolved_ok:
        missing -= {row.error_id for row in rows if row.resolved}
        if missing:
            raise RunErrorsNotFound(
                f"The run has no error {sorted(missing)[0]!r}.",
                fields={"error_ids": [f"not an error of the run: {i}" for i in sorted(missing)]},
            )
    if missing:
        raise RunErrorsNotFound(
            f"The run has no open error {sorted(missing)[0]!r}.",
            fields={"error_ids": [f"not an open error of the run: {i}" for i in sorted(missing)]},
        )
    return chosen


def _account_version(*, run: FlowRun, client: IntegratorClient) -> int:
    """The account's Error Management (known after a refresh: no further call)."""
    return account_error_management(
        client=client, flow_id=run.flow_id, step_id=None, job_id=run.job_id
    )


def _by_step(rows: list[FlowRunError]) -> dict[str, list[FlowRunError]]:
    grouped: dict[str, list[FlowRunError]] = defaultdict(list)
    for row in rows:
        grouped[row.step_id].append(row)
    return grouped


def _from_step_error(run: FlowRun, error: StepError, now) -> FlowRunError:
    return FlowRunError(
        run=run,
        error_id=error.error_id[:64],
        step_id=error.step_id[:64],
        retry_data_key=(error.retry_data_key or "")[:100],
        code=text_without_nul(error.code or "")[:100],
        message=_message(error.message),
        source=text_without_nul(error.source or "")[:100],
        trace_key=_trace_key(error.trace_key),
        occurred_at=error.occurred_at,
        resolved=error.resolved,
        resolved_at=error.resolved_at,
        synced_at=now,
    )


def _from_job_error(run: FlowRun, error: JobError, position: int, now) -> FlowRunError:
    return FlowRunError(
        run=run,
        error_id=(error.retry_id or f"{error.job_id or run.job_id}:{position}")[:64],
        code=text_without_nul(error.code or "")[:100],
        message=_message(error.message),
        source=text_without_nul(error.source or "")[:100],
        trace_key=_trace_key(error.trace_key),
        occurred_at=error.created_at,
        resolved=error.resolved,
        synced_at=now,
    )


def _message(value: str | None) -> str:
    """The error's message as kept and shown everywhere (the API, the admin, the integration
    page): an app that repeats the request it refused (a URL with its key in the query, an
    Authorization header) puts the customer's credential into it, which is no one's to read,
    so what looks like one is masked before it is kept (core.redaction)."""
    return redact_text(text_without_nul(value or ""))


def _trace_key(value: str | None) -> str | None:
    # PostgreSQL refuses a NUL in a text; a key that was nothing else names no record.
    return text_without_nul(value or "") or None

"""Flow runs and the jobs they make: a `flow` job with child `export`/`import` jobs.

A run's plan decides when the job starts (after the queue delay, and after the flow's previous
job ended: one running job per flow) and how long it runs. Jobs move
`queued -> running -> completed|failed` lazily: every read of jobs first advances them to the
present, using the planned times (not the time of the read) for `startedAt`/`endedAt`. A cancel
moves `canceling -> canceled`. The control plane can force the outcome of a flow's next runs and
move a job on at once.

A run's errors go where the account keeps them (the `error_management` setting): EM 2.0 under
the flow and the failing step (`step_errors.py`), EM 1.0 as the job's `joberrors`.
"""

import math

from sandbox import assumptions
from sandbox.exceptions import InvalidJobStatus, NotFound
from sandbox.models.flow_rules import flow_steps
from sandbox.models.job_outcomes import outcome_from_json
from sandbox.models.object_ids import new_object_id
from sandbox.models.step_errors import (
    record_key,
    step_errors_record,
    step_errors_retries_end,
    step_errors_retry,
)
from sandbox.models.store import Store
from sandbox.models.timestamps import duration_text, iso_from_epoch, wall_time
from sandbox.settings import SandboxSettings

ACTIVE = ("queued", "running", "canceling")
# What a failed record says when the demo makes errors (`job_error_records`): a target app's
# refusal, in words a customer can act on.
DEMO_RECORD_ERROR = "The ERP refused the record: the customer's email address is missing."
DEFAULT_EXPORT_PAGE_SIZE = 20
COUNT_FIELDS = (
    "numSuccess",
    "numError",
    "numIgnore",
    "numResolved",
    "numOpenError",
    "numExport",
    "numPagesGenerated",
    "numPagesProcessed",
)


class JobEngine:
    def __init__(self, store: Store, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings
        self.forced: dict[str, list[dict]] = {}
        self._last_created_ms = 0
        # createdAt values in use: each job's is unique (to the millisecond), whatever the
        # clock does. `out_of_order` turns true once a job got an earlier createdAt than one
        # made before it (the clock was stepped back): queries then sort instead of trusting
        # the creation order.
        self._used_ms: set[int] = set()
        self.out_of_order = False

    # --- runs ----------------------------------------------------------------------------

    def run_flow(self, flow: dict) -> dict:
        """Create the flow job and its children, queued, and plan their progress."""
        self.advance()
        now = wall_time()
        outcome = self._next_outcome(flow)
        flow_job = self._insert_job("flow", flow, {})
        children = []
        for index, step in enumerate(flow_steps(flow)):
            kind, resource_id = step
            key = "_exportId" if kind == "export" else "_importId"
            extra = {key: resource_id, "_flowJobId": flow_job["_id"], "oIndex": index}
            children.append(self._insert_job(kind, flow, extra))
        export = self._first_export(flow)
        self.store.job_plans[flow_job["_id"]] = {
            "flowId": flow["_id"],
            "childIds": [child["_id"] for child in children],
            "earliestStart": now + outcome.pop("queueSeconds", self.settings.job_queue_seconds),
            "notBefore": 0.0,
            "runSeconds": outcome.pop("runSeconds", self.settings.job_run_seconds),
            "pageSize": (export or {}).get("pageSize") or DEFAULT_EXPORT_PAGE_SIZE,
            "outcome": outcome,
        }
        flow["lastExecutedAt"] = flow_job["createdAt"]
        self.store.changed()
        return flow_job

    def flows_with_queued_runs(self) -> set[str]:
        """The flows that have a run waiting to start (queued, not yet running)."""
        self.advance()
        queued = set()
        for flow_job_id, plan in self.store.job_plans.items():
            job = self.store.get("jobs", flow_job_id)
            if job is not None and job["status"] == "queued":
                queued.add(plan["flowId"])
        return queued

    def force_outcomes(self, flow_id: str, outcomes: list) -> list[dict]:
        parsed = [outcome_from_json(item) for item in outcomes]
        self.forced.setdefault(flow_id, []).extend(parsed)
        return self.forced[flow_id]

    def cancel(self, job_id: str) -> dict:
        self.advance()
        job = self.store.require("jobs", job_id)
        flow_job_id = job.get("_flowJobId") or job_id
        plan = self.store.job_plans.get(flow_job_id)
        if job["status"] not in ACTIVE or plan is None:
            raise InvalidJobStatus(f"The job is {job['status']} and cannot be canceled.")
        if job["status"] != "canceling":
            now = wall_time()
            plan["cancelAt"] = now + self.settings.job_cancel_seconds
            for member in self._members(flow_job_id, plan):
                member["status"] = "canceling"
                member["lastModified"] = iso_from_epoch(now)
            self.store.changed()
        self.advance()
        return self.store.require("jobs", job_id)

    def cancel_flows(self, flow_ids: set[str]) -> None:
        for flow_job_id, plan in list(self.store.job_plans.items()):
            if plan["flowId"] in flow_ids:
                job = self.store.get("jobs", flow_job_id)
                if job is not None and job["status"] in ("queued", "running"):
                    self.cancel(flow_job_id)

    def move_on(self, job_id: str, *, to: str) -> dict:
        """Control plane: move a job on now, one step (`to="next"`) or to its end (`"end"`)."""
        job = self.store.require("jobs", job_id)
        retry = self.store.retry_plans.get(job_id)
        if retry is not None:
            # A running retry job has one step left: its end.
            retry["endsAt"] = wall_time()
            self.advance(retry["endsAt"])
            return self.store.require("jobs", job_id)
        flow_job_id = job.get("_flowJobId") or job_id
        while True:
            self.advance()
            plan = self.store.job_plans.get(flow_job_id)
            status = self.store.require("jobs", flow_job_id)["status"]
            if plan is None or status not in ACTIVE:
                break
            now = wall_time()
            if status == "queued":
                plan["earliestStart"] = plan["notBefore"] = now
                plan["forced"] = True
            elif status == "running":
                plan["endsAt"] = now
            else:
                plan["cancelAt"] = now
            self.advance(now)
            if to != "end":
                break
        return self.store.require("jobs", job_id)

    def reset(self) -> None:
        self.forced.clear()
        self._last_created_ms = 0
        self._used_ms.clear()
        self.out_of_order = False

    # --- progress ------------------------------------------------------------------------

    def advance(self, now: float | None = None) -> None:
        if self.store.retry_plans:
            step_errors_retries_end(self.store, wall_time() if now is None else now)
        plans = self.store.job_plans
        if not plans:
            return
        now = wall_time() if now is None else now
        busy_flows: set[str] = set()
        finished = []
        for flow_job_id, plan in list(plans.items()):
            if plan["flowId"] in busy_flows and not plan.get("forced"):
                continue
            ended_at = self._advance_one(flow_job_id, plan, now)
            if ended_at is None:
                busy_flows.add(plan["flowId"])
                continue
            finished.append(flow_job_id)
            for other in plans.values():
                if other["flowId"] == plan["flowId"]:
                    other["notBefore"] = max(other["notBefore"], ended_at)
        for flow_job_id in finished:
            del plans[flow_job_id]
        if finished:
            self.store.changed()

    def _advance_one(self, flow_job_id: str, plan: dict, now: float) -> float | None:
        """Move one flow job as far as `now` allows; its end time once it has ended."""
        job = self.store.get("jobs", flow_job_id)
        if job is None:
            return 0.0
        if job["status"] == "canceling":
            if now < plan["cancelAt"]:
                return None
            self._end(flow_job_id, plan, plan["cancelAt"], canceled=True)
            return plan["cancelAt"]
        if job["status"] == "queued":
            start = max(plan["earliestStart"], plan["notBefore"])
            if now < start:
                return None
            plan["startAt"] = start
            plan["endsAt"] = start + plan["runSeconds"]
            for member in self._members(flow_job_id, plan):
                member.update(status="running", startedAt=iso_from_epoch(start))
                member["lastModified"] = iso_from_epoch(start)
            self.store.changed()
        if job["status"] == "running":
            if now < plan["endsAt"]:
                return None
            self._end(flow_job_id, plan, plan["endsAt"], canceled=False)
            return plan["endsAt"]
        return 0.0

    def _end(self, flow_job_id: str, plan: dict, at: float, *, canceled: bool) -> None:
        members = self._members(flow_job_id, plan)
        flow_job, children = members[0], members[1:]
        start = plan.get("startAt", at)
        if canceled:
            for member in members:
                member["status"] = "canceled"
        else:
            self._settle_counts(flow_job, children, plan)
        for member in members:
            member.update(
                endedAt=iso_from_epoch(at),
                lastExecutedAt=iso_from_epoch(at),
                duration=duration_text(at - start),
                lastModified=iso_from_epoch(at),
            )
            member.setdefault("startedAt", iso_from_epoch(start))

    def _settle_counts(self, flow_job: dict, children: list[dict], plan: dict) -> None:
        outcome = plan["outcome"]
        records = outcome["numRecords"]
        pages = math.ceil(records / plan["pageSize"]) if records else 0
        exports = [child for child in children if child["type"] == "export"]
        imports = [child for child in children if child["type"] == "import"]
        if outcome["status"] == "failed":
            failing = exports[0] if exports else flow_job
            for child in children:
                child["status"] = "completed"
            failing.update(status="failed", numError=1, numOpenError=1)
            flow_job.update(status="failed", numError=1, numOpenError=1, doneExporting=True)
            self._record_errors(failing, 1, outcome, flow_job)
            return
        errors, ignored = outcome["numError"], outcome["numIgnore"]
        for export in exports:
            export.update(
                status="completed",
                numExport=records,
                numSuccess=records,
                numPagesGenerated=pages,
                doneExporting=True,
            )
        for position, child in enumerate(imports):
            own_errors = errors if position == 0 else 0
            own_ignored = ignored if position == 0 else 0
            child.update(
                status="completed",
                numSuccess=records - own_errors - own_ignored,
                numError=own_errors,
                numOpenError=own_errors,
                numIgnore=own_ignored,
                numPagesProcessed=pages,
                retriable=own_errors > 0,
            )
        flow_job.update(
            status="completed",
            numExport=records,
            numSuccess=sum(child["numSuccess"] for child in imports) if imports else records,
            numError=errors,
            numOpenError=errors,
            numIgnore=ignored,
            numPagesGenerated=pages,
            numPagesProcessed=pages if imports else 0,
            doneExporting=True,
            retriable=errors > 0,
        )
        if errors:
            target = imports[0] if imports else (exports[0] if exports else flow_job)
            self._record_errors(target, errors, outcome, flow_job)

    def _record_errors(self, job: dict, count: int, outcome: dict, flow_job: dict) -> None:
        failed = outcome["status"] == "failed"
        message = outcome.get("errorMessage") or (
            "The export step failed: the source application could not be read."
            if failed
            else "The target application rejected the record."
        )
        if self.settings.error_management == 2:
            step_errors_record(
                self.store,
                flow_id=flow_job["_flowId"],
                step_id=job.get("_exportId") or job.get("_importId") or flow_job["_flowId"],
                flow_job=flow_job,
                count=count,
                code=outcome.get("errorCode") or ("500" if failed else "422"),
                message=message,
                source=outcome.get("errorSource") or ("application" if failed else "integrator.io"),
                # A failed export read no record, so there is nothing to retry.
                retriable=not failed,
                occurred_at=job.get("lastModified") or flow_job["createdAt"],
            )
            return
        errors = []
        for number in range(count):
            errors.append(
                {
                    "resolve": False,
                    "retry": False,
                    "createdAt": job.get("lastModified") or flow_job["createdAt"],
                    "code": outcome.get("errorCode") or ("500" if failed else "422"),
                    "message": message,
                    "source": outcome.get("errorSource")
                    or ("application" if failed else "integrator.io"),
                    "extract": "",
                    "generate": "",
                    "extracted": "" if failed else record_key(number),
                    "generated": "",
                    "exportDataURI": "",
                    "importDataURI": "",
                    "_retryId": new_object_id(),
                    "_jobId": job["_id"],
                }
            )
            if not failed:
                # ASSUMPTION (assumptions.py): a record's error names its key, as in EM 2.0.
                errors[-1]["traceKey"] = record_key(number)
        self.store.job_errors[job["_id"]] = errors

    # --- reads ---------------------------------------------------------------------------

    def errors_of(self, job_id: str) -> list[dict]:
        self.advance()
        job = self.store.require("jobs", job_id)
        if self.settings.error_management == 2:
            raise NotFound(assumptions.EM2_JOB_ERRORS_MESSAGE)
        errors = list(self.store.job_errors.get(job_id, []))
        if job["type"] == "flow":
            for child in self.store.values("jobs"):
                if child.get("_flowJobId") == job_id:
                    errors.extend(self.store.job_errors.get(child["_id"], []))
        return errors

    def retry_step_errors(self, flow_id: str, step_id: str, body: object) -> dict:
        """POST /flows/{flowId}/{stepId}/retry: the retry job, ended or, with `retry_run_seconds`,
        running (see step_errors.py)."""
        self.advance()
        return step_errors_retry(
            self.store,
            flow_id=flow_id,
            step_id=step_id,
            body=body,
            fails_again=lambda retried: self._retry_failures(flow_id, retried),
            insert_job=self._insert_job,
            run_seconds=self.settings.retry_run_seconds,
        )

    def _retry_failures(self, flow_id: str, retried: int) -> int:
        """How many of `retried` records fail again: the flow's next forced outcome says
        (its numError, or every one when it is "failed"); without one, none."""
        queue = self.forced.get(flow_id)
        if not queue:
            return 0
        outcome = queue.pop(0)
        if outcome.get("status") == "failed":
            return retried
        if "numError" in outcome:
            return outcome["numError"]
        return max(1, retried // 10) if outcome.get("partial") else 0

    # --- internals -----------------------------------------------------------------------

    def _members(self, flow_job_id: str, plan: dict) -> list[dict]:
        ids = [flow_job_id, *plan["childIds"]]
        return [job for job in (self.store.get("jobs", i) for i in ids) if job is not None]

    def _next_outcome(self, flow: dict) -> dict:
        queue = self.forced.get(flow["_id"])
        outcome = dict(queue.pop(0)) if queue else self._unforced_outcome()
        records = outcome.setdefault("numRecords", self.settings.job_records)
        if outcome.pop("partial", False) and "numError" not in outcome:
            outcome["numError"] = max(1, records // 10) if records else 0
        outcome.setdefault("numError", 0)
        outcome.setdefault("numIgnore", 0)
        offline = self._offline_connection(flow)
        if offline is not None and assumptions.OFFLINE_CONNECTION_FAILS_JOB:
            outcome.update(
                status="failed",
                errorCode="connection_offline",
                errorSource="connection",
                errorMessage=f"Connection {offline.get('name')!r} is offline.",
            )
        return outcome

    def _unforced_outcome(self) -> dict:
        """A run nothing forced: completed, with `job_error_records` failed records (the
        demo's errors on demand), each saying why the target refused it."""
        failing = min(self.settings.job_error_records, self.settings.job_records)
        if not failing:
            return {"status": "completed"}
        return {
            "status": "completed",
            "numError": failing,
            "errorCode": "422",
            "errorSource": "application",
            "errorMessage": DEMO_RECORD_ERROR,
        }

    def _offline_connection(self, flow: dict) -> dict | None:
        for kind, resource_id in flow_steps(flow):
            resource = self.store.get(f"{kind}s", resource_id) or {}
            connection = self.store.get("connections", resource.get("_connectionId") or "")
            if connection is not None and connection.get("offline"):
                return connection
        return None

    def _first_export(self, flow: dict) -> dict | None:
        for kind, resource_id in flow_steps(flow):
            if kind == "export":
                return self.store.get("exports", resource_id)
        return None

    def _insert_job(self, kind: str, flow: dict, extra: dict) -> dict:
        created_ms = round(wall_time() * 1000)
        while created_ms in self._used_ms or created_ms == self._last_created_ms:
            created_ms += 1
        if created_ms < self._last_created_ms:
            self.out_of_order = True
        self._used_ms.add(created_ms)
        self._last_created_ms = created_ms
        created = iso_from_epoch(created_ms / 1000)
        purge = iso_from_epoch(created_ms / 1000 + assumptions.JOB_PURGE_DAYS * 86400)
        fields: dict = {
            "type": kind,
            "_integrationId": flow.get("_integrationId"),
            "_flowId": flow["_id"],
            **extra,
            "status": "queued",
            "retriable": False,
            "doneExporting": False,
            **dict.fromkeys(COUNT_FIELDS, 0),
            "createdAt": created,
            "purgeAt": purge,
        }
        if fields["_integrationId"] is None:
            del fields["_integrationId"]
        doc = self.store.insert("jobs", fields)
        doc["lastModified"] = created
        return doc

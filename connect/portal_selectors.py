"""What the customer's integration page shows, read from the service's own records only: the
tenant's connections and settings, the runs mirror (flows, runs) and its jobs. No call to
integrator.io, and a fixed number of queries however many slots, flows and runs there are
(tests/connect/test_portal_queries.py holds it to that).

A run's errors are the one exception, read on demand (`portal_run_errors`).
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.core import signing
from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connect.selectors import STEP_LABELS, SlotState, StepState, connect_slot_states
from connect.template_texts import template_text
from core.errors import ApplicationError
from core.redaction import redact_text
from provisioning.flow_switches import flow_switches
from provisioning.models import Job, JobKind, JobStatus
from runs import actions
from runs.flow_schedule import schedule_next
from runs.models import FlowRun, FlowRunError, RunStatus, TenantFlow
from tenants.errors import SettingsInvalid
from tenants.models import (
    ConnectionStatus,
    ConnectLink,
    PortalSection,
    Tenant,
    TenantConnection,
    TenantStatus,
)
from tenants.services.connections import connection_name
from tenants.services.portal_access import (
    EditableSetting,
    ToggleableFlow,
    editable_settings,
    toggleable_flows,
)
from tenants.services.settings import deep_merge, schema_defaults, tenant_effective_settings
from tenants.settings_mapping import settings_mapped, timezone_for_schedule

# Runs shown per flow on the page; older ones are in the host's own tools.
RUNS_PER_FLOW = 5
# A settings job is news on the page for this long after it ends.
SETTINGS_JOB_SHOWN_FOR = timedelta(minutes=10)
# How long a run's errors, read from integrator.io, are shown again without reading them anew.
RUN_ERRORS_CACHE_SECONDS = 30

RUN_STATUS_LABELS = {
    RunStatus.QUEUED: _("Waiting to start"),
    RunStatus.RUNNING: _("Running"),
    RunStatus.RETRYING: _("Retrying"),
    RunStatus.CANCELING: _("Stopping"),
    RunStatus.COMPLETED: _("Completed"),
    RunStatus.FAILED: _("Failed"),
    RunStatus.CANCELED: _("Stopped"),
    # The service stopped following the run before it ended: how it ended is not known.
    RunStatus.ABANDONED: _("Outcome unknown"),
}


@dataclass
class PortalRun:
    run: FlowRun
    # The run's errors still open, when known from its mirrored errors (read when someone
    # opened the run); None: not read yet, so integrator.io's own counts decide (open_errors).
    open_error_count: int | None = None

    @property
    def status_label(self) -> str:
        return RUN_STATUS_LABELS.get(self.run.status, self.run.status)

    @property
    def open_errors(self) -> int:
        """How many of the run's errors nobody has retried or resolved yet. `num_error` never
        goes down (it is how many records failed in the run), so without this a run whose
        errors were all dealt with would still look broken on the page."""
        if self.open_error_count is not None:
            return self.open_error_count
        return max(self.run.num_error - self.run.num_resolved, 0)

    @property
    def has_errors(self) -> bool:
        return self.open_errors > 0 or self.run.status == RunStatus.FAILED

    @property
    def duration_seconds(self) -> int | None:
        if self.run.duration_ms is None:
            return None
        return round(self.run.duration_ms / 1000)


@dataclass
class PortalFlow:
    flow: TenantFlow
    switch: ToggleableFlow | None  # the customer may switch it on and off
    wanted_on: bool  # what the tenant's settings say (the mirror follows once applied)
    next_run_at: datetime | None
    runs: list[PortalRun] = field(default_factory=list)

    @property
    def is_on(self) -> bool:
        return not self.flow.disabled

    @property
    def switching(self) -> bool:
        """The settings say otherwise than integrator.io last did: the change is on its way."""
        return self.wanted_on == self.flow.disabled

    @property
    def last_run(self) -> PortalRun | None:
        return self.runs[0] if self.runs else None


@dataclass
class SettingsJob:
    status: str  # running, succeeded or failed
    steps: list[StepState]
    finished_at: datetime | None
    # Running, but waiting out an integrator.io outage (for up to the retry window: hours).
    waiting_for_platform: bool = False


@dataclass
class Portal:
    link: ConnectLink
    sections: list[str]
    slots: list[SlotState]
    settings: list[EditableSetting]
    settings_values: dict
    settings_job: SettingsJob | None
    flows: list[PortalFlow]
    live: bool
    # A change on its way (settings, a flow switched) waits out an integrator.io outage.
    waiting_for_platform: bool = False
    # The integration is being set up (connecting the last app started it): the page looks
    # again until it is done, when its flows and runs show.
    setting_up: bool = False
    # The setup stopped (its provision job failed): nothing sets it up until it is tried
    # again, so the page must not read as if it were on its way.
    setup_failed: bool = False

    def shows(self, section: str) -> bool:
        return section in self.sections

    @property
    def flows_switching(self) -> bool:
        return any(flow.switching for flow in self.flows)

    def check_outcome_holds(self, outcome: str) -> bool:
        """Whether a "Check again" outcome (`ok`: they work; `failed`: one does not) is still
        what the connections' states say. Its notice stays in the page's address, which is
        reloaded or returned to after the connections have changed: a notice that they work
        above a connection marked not working is shown nowhere (as a slot's `saved` notice)."""
        failing = any(state.status == ConnectionStatus.FAILED for state in self.slots)
        if outcome == "ok":
            return not failing
        if outcome == "failed":
            return failing
        return False

    @property
    def runs_in_progress(self) -> bool:
        """A run the page shows has not ended (the flows section shows each flow's last run,
        the runs section its latest ones): the page looks again until it has, or its status
        would say "Running" for good once the run is over."""
        if PortalSection.RUNS in self.sections:
            shown = [entry for flow in self.flows for entry in flow.runs]
        elif PortalSection.FLOWS in self.sections:
            shown = [flow.last_run for flow in self.flows if flow.last_run]
        else:
            shown = []
        return any(not entry.run.is_finished for entry in shown)


def portal_read(*, link: ConnectLink, now: datetime | None = None) -> Portal:
    """The page's content for the link's sections."""
    now = now or timezone.now()
    tenant = link.tenant
    sections = list(link.sections or [])
    version = tenant.template_version
    effective = _effective_settings(tenant)
    slots = connect_slot_states(tenant=tenant) if PortalSection.CONNECTIONS in sections else []
    settings = editable_settings(version=version) if PortalSection.SETTINGS in sections else []
    settings = [
        _with_current_interval(setting, effective.get(setting.name)) for setting in settings
    ]
    settings_job = _settings_job(tenant=tenant, now=now) if settings else None
    flows = []
    if PortalSection.FLOWS in sections or PortalSection.RUNS in sections:
        flows = _flows(tenant=tenant, version=version, effective=effective, now=now)
    if settings_job is not None and settings_job.status == "running":
        # The tenant's one unfinished job: its row says it all.
        waiting = settings_job.waiting_for_platform
    else:
        waiting = any(flow.switching for flow in flows) and _job_waits_for_platform(tenant)
    return Portal(
        link=link,
        sections=sections,
        slots=slots,
        settings=settings,
        settings_values={s.name: effective.get(s.name) for s in settings},
        settings_job=settings_job,
        flows=flows,
        live=bool(tenant.integration_id),
        waiting_for_platform=waiting,
        setting_up=tenant.status == TenantStatus.PROVISIONING,
        setup_failed=tenant.status == TenantStatus.FAILED,
    )


def _job_waits_for_platform(tenant: Tenant) -> bool:
    """Whether the tenant's unfinished job (whatever its kind: a settings change may be
    applied by a job already under way) is queued waiting out an integrator.io outage."""
    return Job.objects.filter(
        tenant=tenant, status=JobStatus.QUEUED, waiting_since__isnull=False
    ).exists()


def _with_current_interval(setting: EditableSetting, current: object) -> EditableSetting:
    """A schedule setting offers the tenant's current interval too when a schedule cannot say
    it (saved before intervals were checked): the page shows what is set, and saving the other
    settings leaves it as it is (the settings service lets a value the tenant had through)."""
    if setting.kind != "interval" or type(current) is not int or current in setting.intervals:
        return setting
    return replace(setting, intervals=tuple(sorted({*setting.intervals, current})))


def _effective_settings(tenant: Tenant) -> dict:
    """The tenant's settings; when they no longer fit its version's schema (overrides saved
    under an older rule), what they are regardless: the page still shows, and saving says
    what is wrong."""
    try:
        return tenant_effective_settings(tenant=tenant)
    except SettingsInvalid:
        defaults = schema_defaults(tenant.template_version.settings_schema)
        return deep_merge(defaults, tenant.settings)


def _flows(*, tenant: Tenant, version, effective: dict, now: datetime) -> list[PortalFlow]:
    switches = {flow.source_id: flow for flow in toggleable_flows(version=version)}
    wanted = flow_switches(settings_schema=version.settings_schema, settings=effective)
    mapped = settings_mapped(mapping=version.settings_mapping, settings=effective)
    # A flow runs in its own timezone unless the mapping sets one: the template flow's, which
    # its clone keeps (the mirror does not hold it; the version's snapshot does, and the
    # reconcile holds the flow to it: provisioning.reconcile.desired).
    own_timezones = {
        doc["_id"]: doc.get("timezone") for doc in (version.snapshot or {}).get("flows") or []
    }
    flows = []
    for flow in TenantFlow.objects.filter(tenant=tenant, removed_at__isnull=True):
        wanted_on = wanted.get(flow.source_id, not flow.disabled)
        scheduled = mapped.for_flow(flow.source_id or None)
        next_run = None
        if not flow.disabled and scheduled.get("schedule"):
            next_run = schedule_next(
                scheduled["schedule"],
                timezone=timezone_for_schedule(
                    wanted=scheduled.get("timezone"), flow=own_timezones.get(flow.source_id)
                ),
                after=now,
            )
        flows.append(
            PortalFlow(
                flow=flow,
                switch=switches.get(flow.source_id) if flow.source_id else None,
                wanted_on=wanted_on,
                next_run_at=next_run,
            )
        )
    by_id = {flow.flow.flow_id: flow for flow in flows}
    # Each flow's newest runs, in one query (a window over the tenant's runs), with how many
    # of each run's mirrored errors there are and how many are still open (subqueries, so
    # still one query).
    mirrored = FlowRunError.objects.filter(run=OuterRef("pk")).order_by().values("run")
    ranked = (
        FlowRun.objects.filter(tenant=tenant, flow_id__in=list(by_id))
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("flow_id")], order_by=F("created_at").desc()),
            mirrored_errors=_count(mirrored),
            mirrored_open=_count(mirrored.filter(resolved=False)),
        )
        .filter(rank__lte=RUNS_PER_FLOW)
        .order_by("flow_id", "rank")
    )
    for run in ranked:
        known = run.mirrored_open if run.mirrored_errors else None
        by_id[run.flow_id].runs.append(PortalRun(run=run, open_error_count=known))
    return flows


def _count(rows) -> Coalesce:
    """How many of `rows` (a subquery grouped by run) there are; 0 for none."""
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


# A settings change's steps: its "enable" step switches each flow on or off as the settings
# say (a change may switch one off), where the setup's only switches them on.
SETTINGS_STEP_LABELS = {**STEP_LABELS, "enable": _("Switch the data flows on or off")}


def _settings_job(*, tenant: Tenant, now: datetime) -> SettingsJob | None:
    """The newest settings change being applied, or applied lately, with its steps."""
    job = (
        Job.objects.filter(tenant=tenant, kind=JobKind.UPDATE_SETTINGS)
        .order_by("-created_at")
        .prefetch_related("steps")
        .first()
    )
    if job is None:
        return None
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        status = "running"
    elif job.finished_at and job.finished_at < now - SETTINGS_JOB_SHOWN_FOR:
        return None
    else:
        status = "succeeded" if job.status == JobStatus.SUCCEEDED else "failed"
    steps = [
        StepState(name=s.name, label=SETTINGS_STEP_LABELS.get(s.name, s.name), status=s.status)
        for s in job.steps.all()
    ]
    return SettingsJob(
        status=status,
        steps=steps,
        finished_at=job.finished_at,
        waiting_for_platform=job.status == JobStatus.QUEUED and job.waiting_since is not None,
    )


@dataclass
class PortalRunDetail:
    run: PortalRun
    flow_name: str
    errors: list[FlowRunError]
    open_count: int
    retriable_count: int
    read_failed: bool = False
    # After a retry (its jobs named): "running" while integrator.io is still sending the
    # records again, "ended" once it has the outcome, "unknown" when it did not say.
    retry: str = ""
    # The run failed and a connection to one of the apps is not working: the page leads to
    # the connections, where it is checked again and reconnected (retrying cannot help).
    connection_failed: bool = False


def portal_run_get(*, tenant: Tenant, job_id: str) -> FlowRun | None:
    if "\x00" in job_id:
        # The URL's run id is anyone's to write; PostgreSQL refuses a NUL in a query (a 500).
        return None
    return FlowRun.objects.filter(tenant=tenant, job_id=job_id).first()


_READ_AGAIN_SALT = "connect.portal.run-errors-read-again"


def portal_run_errors_read_again_issue(*, link: ConnectLink, job_id: str) -> str:
    """What the page a change to the run's errors lands on carries (`?read=`), so that it
    shows them as they are now, not the copy of before the change: signed over the link and
    the run, good once per process for RUN_ERRORS_CACHE_SECONDS. A page's address alone
    cannot ask for it, or reloading it would call integrator.io at every load."""
    return signing.TimestampSigner(salt=_READ_AGAIN_SALT).sign_object(
        {"link": str(link.id), "run": job_id}
    )


def _read_again_granted(token: str, *, link: ConnectLink, job_id: str) -> bool:
    if not token:
        return False
    try:
        value = signing.TimestampSigner(salt=_READ_AGAIN_SALT).unsign_object(
            token, max_age=RUN_ERRORS_CACHE_SECONDS
        )
    except (signing.BadSignature, ValueError):
        return False
    if value != {"link": str(link.id), "run": job_id}:
        return False
    return cache.add(f"{_READ_AGAIN_SALT}:{token}", 1, RUN_ERRORS_CACHE_SECONDS)


# While a retry is followed, integrator.io is asked whether it still runs at most once per
# this many seconds per run (per process), however often the page is loaded (its reloads, or
# anyone reloading its address): the page looks again at that pace.
RETRY_CHECK_SECONDS = 3


def portal_run_errors(
    *,
    link: ConnectLink,
    run: FlowRun,
    read_again: str = "",
    retry_job_ids: list[str] | None = None,
) -> PortalRunDetail:
    """A run and its errors. The errors are read from integrator.io on demand (the
    interactive lane, through runs.actions) at most once per RUN_ERRORS_CACHE_SECONDS per run,
    and once more after a change made through the page (`read_again`, the token
    portal_run_errors_read_again_issue gave it) and once when a followed retry is seen ended;
    otherwise the mirror's copy is shown.

    With `retry_job_ids` (a retry just asked for), whether that retry still runs: until it
    ends, the records that fail again are not yet among the open errors."""
    tenant = link.tenant
    fresh = _read_again_granted(read_again, link=link, job_id=run.job_id)
    retry = ""
    if retry_job_ids:
        retry = _retry_state(tenant=tenant, run=run, retry_job_ids=retry_job_ids)
        if retry == "ended":
            ids = ",".join(sorted(retry_job_ids))
            fresh = cache.add(f"connect.portal.run-retry-ended:{run.pk}:{ids}", 1, 3600) or fresh
    flow = TenantFlow.objects.filter(tenant=tenant, flow_id=run.flow_id).first()
    read_failed = False
    key = f"connect.portal.run-errors:{run.pk}"
    if run.num_error or run.status == RunStatus.FAILED:
        if fresh or cache.add(key, 1, RUN_ERRORS_CACHE_SECONDS):
            try:
                errors = actions.run_errors_fetch(tenant=tenant, job_id=run.job_id)
            except ApplicationError:
                # integrator.io did not answer: show what the mirror last had, and say so.
                cache.delete(key)
                read_failed = True
                errors = list(FlowRunError.objects.filter(run=run))
        else:
            errors = list(FlowRunError.objects.filter(run=run))
    else:
        errors = []
    connection_failed = run.status == RunStatus.FAILED and _connection_failed(tenant, errors)
    names = _connection_names(tenant) if errors else {}
    errors = [_as_shown(error, names) for error in errors]
    open_errors = [e for e in errors if not e.resolved]
    return PortalRunDetail(
        # The errors just listed say what is open; with none kept, integrator.io's counts do.
        run=PortalRun(run=run, open_error_count=len(open_errors) if errors else None),
        flow_name=flow.name if flow else "",
        errors=errors,
        open_count=len(open_errors),
        retriable_count=sum(1 for e in open_errors if e.retry_data_key),
        read_failed=read_failed,
        retry=retry,
        connection_failed=connection_failed,
    )


# The `source` integrator.io gives an error of a connection (offline, refused credentials),
# as against the app's or its own: docs/integrator-io.md, "Run errors".
CONNECTION_ERROR_SOURCE = "connection"


def _connection_failed(tenant: Tenant, errors: list[FlowRunError]) -> bool:
    """Whether a failed run's cause is a connection that is not working: one of its errors
    says so, or (its errors unread, or saying it in other words) the last check found one of
    the tenant's connections not working. One query, only for a failed run whose errors do not
    say it already."""
    if any(error.source == CONNECTION_ERROR_SOURCE for error in errors):
        return True
    return TenantConnection.objects.filter(tenant=tenant, status=ConnectionStatus.FAILED).exists()


def _retry_state(*, tenant: Tenant, run: FlowRun, retry_job_ids: list[str]) -> str:
    """ "running", "ended" or "unknown" (integrator.io did not say) for the followed retry,
    asked at most once per RETRY_CHECK_SECONDS per run; between two asks, the last answer for
    these jobs, else "running" (the page looks again). An ended retry stays ended."""
    ids = ",".join(sorted(retry_job_ids))
    known_key = f"connect.portal.run-retry-state:{run.pk}:{ids}"
    known = cache.get(known_key)
    if known == "ended":
        return known
    if not cache.add(f"connect.portal.run-retry-asked:{run.pk}", 1, RETRY_CHECK_SECONDS):
        return known or "running"
    try:
        running = actions.run_retries_running(
            tenant=tenant, job_id=run.job_id, retry_job_ids=retry_job_ids
        )
    except ApplicationError:
        return "unknown"
    state = "running" if running else "ended"
    cache.set(known_key, state, 3600 if state == "ended" else RETRY_CHECK_SECONDS * 2)
    return state


def _connection_names(tenant: Tenant) -> dict[str, str]:
    """The tenant's connections' names in integrator.io (with their deployment marks) and the
    app each is, as the customer knows it (the slot's label, in the page's language)."""
    translations = tenant.template.translations
    return {
        connection_name(tenant=tenant, slot=slot): str(
            template_text(translations, slot.get("label") or slot["key"])
        )
        for slot in tenant.template_version.slots
    }


def _as_shown(error: FlowRunError, names: dict[str, str] | None = None) -> FlowRunError:
    """The error as the page shows it: an app's answer may repeat what it was sent (a key, a
    token), and integrator.io passes it on as the message; what looks like a credential is
    masked, as on the credential form (tenants.remote_reasons; the mirror keeps it masked
    already, runs.run_errors, and masking again changes nothing). integrator.io names a
    connection by the name this service gave it there (tenant, slot and deployment mark): the
    page names the app. A copy, never saved."""
    shown = copy(error)
    message = error.message or ""
    for name, label in (names or {}).items():
        message = message.replace(name, label)
    shown.message = redact_text(message)
    return shown

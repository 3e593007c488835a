"""What the connect pages show: the state of each slot, and the tenant's provisioning progress."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.html import conditional_escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from connect.oauth_outcomes import NOT_WORKING
from connect.template_texts import sentence_html, template_text, text_html
from provisioning.models import Job, JobKind, JobStatus, StepStatus
from tenants.connect_links import connect_link_state
from tenants.models import ConnectionStatus, ConnectLink, Tenant, TenantConnection, TenantStatus
from tenants.remote_reasons import RemoteReason, remote_reason

# Step names of the provision job in the words of the person waiting for it (lazy: read in
# the page's language, connect.language).
STEP_LABELS = {
    "connections": gettext_lazy("Check your connections"),
    "clone": gettext_lazy("Create your integration"),
    "wire": gettext_lazy("Link it to your apps"),
    "settings": gettext_lazy("Apply your settings"),
    "enable": gettext_lazy("Switch on the data flows"),
    # What the step does for the customer, in their words: it brings their copy of the
    # integration up to the template's version ("reconcile" is our word, not theirs).
    "reconcile": gettext_lazy("Apply the latest version of the integration"),
    "verify": gettext_lazy("Final checks"),
}


@dataclass
class SlotState:
    key: str
    label: str
    description: str
    status: str  # a ConnectionStatus value
    last_ping_at: datetime | None
    last_ping_error: str
    field_values: dict = field(default_factory=dict)  # non-secret values only
    form: object = None  # the slot's form, when the page shows one
    is_oauth: bool = False  # connected by consent at the app, not with typed fields
    oauth: dict | None = None  # an OAuth slot's Connect button, when the page shows one
    oauth_error: str = ""  # why the last consent did not connect (connect.oauth_outcomes)
    oauth_outcome: str = ""  # that consent's outcome (connect.oauth_outcomes)
    # A connection was made in integrator.io (it may have stopped working since): its button
    # says Reconnect, as README does; only an app never connected says Connect.
    has_connection: bool = False

    @property
    def is_ok(self) -> bool:
        return self.status == ConnectionStatus.OK

    @property
    def checked_ago(self) -> str:
        if self.last_ping_at is None:
            return ""
        if timezone.now() - self.last_ping_at < timedelta(minutes=1):
            return _("just now")
        # Django's humanize knows how each language says "5 minutes ago" ("vor 5 Minuten"),
        # which a sentence wrapped around timesince() would get wrong (German puts "vor"
        # first and wants the dative, a case timesince() does not give).
        return naturaltime(self.last_ping_at)

    @property
    def oauth_error_detail(self) -> str:
        """What the app answered the check of the consent that did not connect; "" when that
        consent failed before any check (denied, expired, ...): the answer the slot keeps is
        then an earlier check's, and shown with this consent's message it would read as the
        reason for it."""
        if self.oauth_outcome != NOT_WORKING or self.status != ConnectionStatus.FAILED:
            return ""
        return self.reason.detail if self.last_ping_error else ""

    @property
    def reason(self) -> RemoteReason:
        return marked_remote_reason(message=self.last_ping_error, app=self.label, secrets=[])


def marked_remote_reason(*, message: str, app: str, secrets: list[str]) -> RemoteReason:
    """`tenants.remote_reasons.remote_reason` for a page: its summary as HTML, the app's
    label (a template text) keeping its language mark inside the sentence around it."""
    # The placeholder is filled with itself, and here with the marked label.
    reason = remote_reason(message=message, app="{app}", secrets=secrets)
    return replace(reason, summary=sentence_html(reason.summary, app=app))


def connect_slot_states(*, tenant: Tenant, only_slot: str = "") -> list[SlotState]:
    """The template's slots in template order (or just `only_slot`), with the tenant's state."""
    connections = {c.slot_key: c for c in TenantConnection.objects.filter(tenant=tenant)}
    translations = tenant.template.translations
    states = []
    for slot in tenant.template_version.slots:
        if only_slot and slot["key"] != only_slot:
            continue
        connection = connections.get(slot["key"])
        states.append(
            SlotState(
                key=slot["key"],
                label=template_text(translations, slot.get("label") or slot["key"]),
                description=template_text(
                    translations, slot.get("description") or slot.get("help_text") or ""
                ),
                status=connection.status if connection else ConnectionStatus.MISSING,
                last_ping_at=connection.last_ping_at if connection else None,
                last_ping_error=connection.last_ping_error if connection else "",
                field_values=dict(connection.field_values) if connection else {},
                is_oauth=slot.get("kind") == "oauth",
                has_connection=bool(connection and connection.connection_id),
            )
        )
    return states


def connect_link_slot_state(*, link_id: str, slot_key: str) -> tuple[ConnectLink, SlotState] | None:
    """A link still in force (by id, as a used OAuth sign-in remembers it) and the state of
    one of its tenant's slots; None when the link is gone, expired or revoked, or has no
    such slot."""
    try:
        link = ConnectLink.objects.select_related("tenant__template").filter(id=link_id).first()
    except (ValueError, DjangoValidationError):
        return None
    if link is None or connect_link_state(link) != "active":
        return None
    states = connect_slot_states(tenant=link.tenant, only_slot=slot_key)
    return (link, states[0]) if states else None


# Step statuses as the person waiting reads them.
STEP_STATUS_LABELS = {
    StepStatus.PENDING: gettext_lazy("Waiting"),
    StepStatus.RUNNING: gettext_lazy("In progress"),
    StepStatus.SUCCEEDED: gettext_lazy("Done"),
    StepStatus.FAILED: gettext_lazy("Failed"),
    StepStatus.SKIPPED: gettext_lazy("Not needed"),
}


@dataclass
class StepState:
    name: str
    label: str
    status: str  # a StepStatus value

    @property
    def status_label(self) -> str:
        return str(STEP_STATUS_LABELS.get(self.status, _humanise(self.status)))


@dataclass
class Progress:
    """Where the tenant's setup stands, for the status page and its JSON twin.

    `state` is one of: `waiting` (credentials still missing), `running`, `active`, `failed`.
    """

    state: str
    title: str
    detail: str
    steps: list[StepState] = field(default_factory=list)
    # A live integration's slots whose connection failed its last check: the page sends the
    # person to the form to connect them again.
    failed_slots: list[str] = field(default_factory=list)
    # `detail` as the page shows it, when it names template texts (marked in their language,
    # connect.template_texts); the JSON keeps the plain `detail`.
    detail_html: str = ""

    @property
    def is_done(self) -> bool:
        return self.state in ("active", "failed")

    def as_json(self) -> dict:
        return {
            "state": self.state,
            "done": self.is_done,
            "title": self.title,
            "detail": self.detail,
            "steps": [
                {
                    "name": s.name,
                    "label": s.label,
                    "status": s.status,
                    "status_label": s.status_label,
                }
                for s in self.steps
            ],
        }


def connect_progress(*, tenant: Tenant) -> Progress:
    tenant.refresh_from_db(fields=["status", "last_error"])
    job = (
        Job.objects.filter(tenant=tenant, kind=JobKind.PROVISION)
        .order_by("-created_at")
        .prefetch_related("steps")
        .first()
    )
    steps = [
        StepState(
            name=s.name, label=str(STEP_LABELS.get(s.name, _humanise(s.name))), status=s.status
        )
        for s in (job.steps.all() if job else [])
    ]

    if tenant.status in (TenantStatus.ACTIVE, TenantStatus.DEGRADED):
        # A later job (settings, repair) may be running; the integration is live regardless.
        # But "everything is connected" must not be said beside a connection that failed its
        # check (an app's access withdrawn, a key revoked): only the customer can fix that.
        failed = [
            state.label
            for state in connect_slot_states(tenant=tenant)
            if state.status == ConnectionStatus.FAILED
        ]
        if failed:
            sentence = ngettext(
                "%(apps)s is not working at the moment. Connect it again so that your "
                "data keeps flowing.",
                "%(apps)s are not working at the moment. Connect them again so that your "
                "data keeps flowing.",
                len(failed),
            )
            apps_html = format_html_join(", ", "{}", ((text_html(label),) for label in failed))
            return Progress(
                state="active",
                title=_("Your integration is live"),
                detail=sentence % {"apps": ", ".join(failed)},
                detail_html=mark_safe(conditional_escape(sentence) % {"apps": apps_html}),  # noqa: S308
                steps=steps,
                failed_slots=failed,
            )
        return Progress(
            state="active",
            title=_("Your integration is live"),
            detail=_("Everything is connected, and your data flows are switched on."),
            steps=steps,
        )
    if job is not None and job.status == JobStatus.QUEUED and job.waiting_since is not None:
        # Waiting out an integrator.io outage, for up to the retry window (hours): "less than
        # a minute" would be untrue, and the person would keep retrying or call support.
        return Progress(
            state="running",
            title=_("Setting up your integration"),
            detail=_(
                "The integration platform is not answering at the moment. The setup waits and "
                "carries on by itself once it is back: there is nothing you need to do, and "
                "you can close this page."
            ),
            steps=steps,
        )
    if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return Progress(
            state="running",
            title=_("Setting up your integration"),
            detail=_("This usually takes less than a minute. You can keep this page open."),
            steps=steps,
        )
    if tenant.status == TenantStatus.FAILED or (
        job is not None and job.status in (JobStatus.FAILED, JobStatus.CANCELED)
    ):
        # The job's own error is written for operators (it names integrator.io and its ids),
        # who see it in the admin and the API; the person here gets what they can act on.
        failed_step = next((s for s in steps if s.status == StepStatus.FAILED), None)
        stopped = (
            _("Setting up your integration stopped at “%(step)s”.") % {"step": failed_step.label}
            if failed_step
            else _("Setting up your integration stopped.")
        )
        return Progress(
            state="failed",
            title=_("We could not finish the setup"),
            detail=stopped
            + " "
            # Nothing on these pages starts the setup again (ops or the host app retry the
            # job): "try again later" sent people looking for a button that is not there.
            + _(
                "Your credentials are saved: there is nothing more for you to enter. Our team "
                "can see what went wrong and finishes the setup once it is fixed; contact "
                "support if your integration is not live soon."
            ),
            steps=steps,
        )
    if tenant.status == TenantStatus.PROVISIONING:
        return Progress(
            state="running",
            title=_("Setting up your integration"),
            detail=_("This usually takes less than a minute. You can keep this page open."),
            steps=steps,
        )
    return Progress(
        state="waiting",
        title=_("Waiting for your credentials"),
        detail=(
            _("Connect your app first; the setup starts right after.")
            if len(tenant.template_version.slots) == 1
            else _("Connect every app first; the setup starts right after.")
        ),
        steps=steps,
    )


def _humanise(name: str) -> str:
    return name.replace("_", " ").capitalize()

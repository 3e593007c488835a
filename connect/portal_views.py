"""The customer's integration page (the portal), reached through a signed link made with
`sections`: `/connect/<token>/portal/...`.

- `portal`: the sections the link shows (connections, settings, flows, runs), read from the
  service's own records (connect.portal_selectors);
- `settings_save`, `flow_switch`, `connections_check` (a connection's "Check again"): plain
  form posts, answered with a redirect back to the page
  (POST-redirect-GET) or the page with the form's messages;
- `run`: one run and its errors (read from integrator.io on demand, briefly cached);
  `run_errors`: retry or mark resolved.

Every page works without JavaScript. The link's rules are the credential form's
(connect.views.connect_page): signed, expiring, revocable, framed only by the tenant's allowed
origins, no cookies; every POST carries a per-form token and passes the Origin check, and
writes count against a per-link rate limit. A read-only link refuses every POST.
"""

from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlencode

from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connect.embedding import post_origin_allowed
from connect.form_tokens import form_token_issue, form_token_valid
from connect.oauth_outcomes import outcome_message
from connect.portal_forms import (
    CONNECTIONS_CHECK_FORM,
    FIELD_PREFIX,
    FLOWS_FORM,
    RUN_ERRORS_FORM,
    PortalSettingsForm,
)
from connect.portal_selectors import (
    portal_read,
    portal_run_errors,
    portal_run_errors_read_again_issue,
    portal_run_get,
)
from connect.portal_services import (
    PortalChangeRefused,
    SettingsChangedSince,
    portal_connections_check,
    portal_flow_switch,
    portal_run_errors_act,
    portal_settings_save,
)
from connect.submission_limit import SubmissionLimitUnavailable, submission_acquire
from connect.views import (
    BACK_TO_PORTAL,
    SERVICE_TOKEN_PROBLEMS,
    Page,
    connect_page,
    oauth_start_url,
    return_url_of,
)
from core import unavailable
from core.errors import ApplicationError
from runs.actions import CONNECTION_CHECK_MIN_SECONDS, RETRY_JOBS_FOLLOWED
from runs.errors import (
    ConnectionCheckTooSoon,
    RunErrorsNoneOpen,
    RunErrorsNoneOpenToResolve,
    RunErrorsNotFound,
    RunNotFound,
)
from runs.run_errors import RetriedRunErrors
from tenants.models import PortalSection
from tenants.services.oauth_maps import is_oauth_slot
from tenants.services.portal_access import toggleable_flows

logger = logging.getLogger(__name__)

# Seconds between two looks while a change is being applied or the setup runs (the page
# reloads itself).
REFRESH_SECONDS = 3
# ... and while only a run shown has not ended: runs last minutes to hours, their mirror
# follows them every few seconds, and a page reloaded every 3 s for an hour is one a screen
# reader announces anew every 3 s.
RUN_REFRESH_SECONDS = 10
# Neither on a POST's answer (a refused change, shown with its errors): reloading it would
# post the form again (the browser asks to resubmit it, or sends it once more), and read its
# error summary out anew at every look.
# `?checked=` of a "Check again" clicked before the tenant's turn came round again.
CHECK_TOO_SOON = "too-soon"


def _portal_url(page: Page, query: dict | None = None, anchor: str = "") -> str:
    url = reverse("connect:portal", args=[page.token])
    if query:
        url += "?" + urlencode(query)
    return url + (f"#{anchor}" if anchor else "")


@connect_page
def portal(request, page: Page):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not page.link.sections:
        # A credential-form link: that is its page.
        return HttpResponseRedirect(reverse("connect:form", args=[page.token]), status=303)
    return _render_portal(request, page)


@connect_page
def settings_save(request, page: Page):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    content = portal_read(link=page.link)
    if not content.settings:
        return _refuse(request, page)
    form = PortalSettingsForm(
        request.POST,
        link_id=str(page.link.id),
        settings=content.settings,
        translations=page.tenant.template.translations,
        initial=_settings_initial(content),
    )
    if not post_origin_allowed(request, tenant=page.tenant) or not form.token_is_valid:
        return _refuse(request, page)
    if not form.is_valid():
        return _render_portal(request, page, content=content, settings_form=form, status=400)
    limited = _rate_limited(request, page, content=content, settings_form=form)
    if limited is not None:
        return limited
    try:
        outcome = portal_settings_save(link=page.link, values=form.values, shown=form.posted_shown)
    except PortalChangeRefused:
        return _refuse(request, page)
    except SettingsChangedSince as error:
        # Nothing saved: the fields changed meanwhile show what they are now, with a message
        # each; the person's other changes stay in the form, to save knowing them.
        logger.info("portal settings refused: %s", error.code)
        content = portal_read(link=page.link)
        names = [path.removeprefix("settings.") for path in error.fields]
        form.show_current(content.settings_values, names)
        form.add_error(
            None,
            _(
                "Someone changed these settings since this page was opened. Nothing was "
                "saved: they now show their current values. Choose again if you still want "
                "to change them, and save."
            ),
        )
        for name in names:
            form.add_error(
                FIELD_PREFIX + name,
                _("Changed since this page was opened: this is its current value."),
            )
        return _render_portal(request, page, content=content, settings_form=form, status=409)
    except ApplicationError as error:
        logger.info("portal settings refused: %s", error.code)
        if not form.place_errors(error.fields):
            form.add_error(None, _plain_message(error))
        status = error.http_status if error.http_status != 404 else 400
        return _render_portal(request, page, content=content, settings_form=form, status=status)
    saved = "applying" if outcome.job else ("saved" if outcome.settings_changed else "unchanged")
    # The fragment names the notice that says how it went: a browser focuses a focusable
    # fragment target, and takes focus away from anything else (portal.js's too).
    return HttpResponseRedirect(
        _portal_url(page, {"settings": saved}, anchor="settings-outcome"), status=303
    )


@connect_page
def flow_switch(request, page: Page):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not _post_allowed(request, page, form=FLOWS_FORM):
        return _refuse(request, page)
    flow_path = request.POST.get("flow", "")
    enabled = request.POST.get("enabled", "")
    if enabled not in ("on", "off"):
        return _render_portal(
            request, page, flows_error=_("Choose whether the flow runs."), status=400
        )
    limited = _rate_limited(request, page)
    if limited is not None:
        return limited
    try:
        portal_flow_switch(link=page.link, flow_path=flow_path, enabled=enabled == "on")
    except PortalChangeRefused:
        return _refuse(request, page)
    except ApplicationError as error:
        logger.info("portal flow switch refused: %s", error.code)
        status = error.http_status if error.http_status != 404 else 400
        return _render_portal(request, page, flows_error=_plain_message(error), status=status)
    return HttpResponseRedirect(
        _portal_url(page, {"flow": flow_path, "switched": enabled}, anchor="flows-outcome"),
        status=303,
    )


@connect_page
def connections_check(request, page: Page):
    """ "Check again" next to a connection that is not working: its ping, now, through the
    service of the periodic check (and of the API's check), whose once-per-tenant turn it
    shares."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not _post_allowed(request, page, form=CONNECTIONS_CHECK_FORM):
        return _refuse(request, page)
    limited = _rate_limited(request, page)
    if limited is not None:
        return limited
    try:
        connections = portal_connections_check(link=page.link)
    except PortalChangeRefused:
        return _refuse(request, page)
    except ConnectionCheckTooSoon as error:
        # Answered with a redirect too, as a check done: a page at the post's address would
        # send the post again when reloaded. The address says until when to wait (not how
        # long), so that the page, reloaded later, says how long is left, or nothing.
        until = math.ceil(time.time() + error.retry_after)
        return HttpResponseRedirect(
            _portal_url(
                page, {"checked": CHECK_TOO_SOON, "until": until}, anchor="connections-outcome"
            ),
            status=303,
        )
    except ApplicationError as error:
        logger.info("portal connections check refused: %s", error.code)
        if error.code == "tenant_deprovisioned":
            message = _plain_message(error)
        elif error.code in SERVICE_TOKEN_PROBLEMS:
            # Only an operator fixes it: "try again shortly" would send the person round.
            message = _(
                "We could not check the connection because of a problem on our side. Please "
                "try again later, or contact support if this keeps happening."
            )
        else:
            message = _("We could not check the connection right now. Please try again shortly.")
        status = error.http_status if error.http_status != 404 else 400
        return _render_portal(request, page, connections_problem=message, status=status)
    working = all(each.status == "ok" for each in connections)
    return HttpResponseRedirect(
        _portal_url(page, {"checked": "ok" if working else "failed"}, anchor="connections-outcome"),
        status=303,
    )


@connect_page
def run(request, page: Page, run_id: str):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if PortalSection.RUNS not in (page.link.sections or []):
        # Only reached by typing the address: a page view, not a refused form, so no "we
        # could not accept this form" (connect/refused.html is for posts).
        return page.render(request, "connect/portal/runs_not_shown.html", status=404)
    done = request.GET.get("done")
    # After a retry, its jobs (`retry`): the page follows them until integrator.io has the
    # outcome, as the integration page follows a change being applied.
    retry_job_ids = request.GET.get("retry", "").split(",") if done == "retry" else []
    return _render_run(
        request,
        page,
        run_id,
        read_again=request.GET.get("read", ""),
        retry_job_ids=[i for i in retry_job_ids if i][:RETRY_JOBS_FOLLOWED],
    )


@connect_page
def run_errors(request, page: Page, run_id: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not _post_allowed(request, page, form=RUN_ERRORS_FORM):
        return _refuse(request, page)
    action = request.POST.get("action", "")
    error_id = request.POST.get("error_id", "")
    if action not in ("retry", "resolve"):
        return _render_run(request, page, run_id, problem=_("Choose retry or resolve."), status=400)
    limited = _rate_limited(request, page, run_id=run_id)
    if limited is not None:
        return limited
    try:
        acted = portal_run_errors_act(
            link=page.link, job_id=run_id, action=action, error_ids=[error_id] if error_id else None
        )
    except PortalChangeRefused:
        return _refuse(request, page)
    except ApplicationError as error:
        logger.info("portal run errors %s refused: %s", action, error.code)
        status = error.http_status if error.http_status >= 400 else 400
        return _render_run(request, page, run_id, problem=_plain_message(error), status=status)
    # The page it lands on reads the errors anew, once: its `read` says so (a reload does not).
    read = portal_run_errors_read_again_issue(link=page.link, job_id=run_id)
    query = {"done": action, "read": read}
    if isinstance(acted, RetriedRunErrors) and acted.retry_job_ids:
        query["retry"] = ",".join(acted.retry_job_ids[:RETRY_JOBS_FOLLOWED])
    url = reverse("connect:portal_run", args=[page.token, run_id]) + "?" + urlencode(query)
    return HttpResponseRedirect(url, status=303)


# --- rendering -----------------------------------------------------------------------------


def _render_portal(
    request,
    page: Page,
    *,
    content=None,
    settings_form=None,
    flows_error="",
    notice="",
    connections_problem="",
    status=200,
):
    content = content or portal_read(link=page.link)
    link_id = str(page.link.id)
    writable = not page.link.read_only
    if content.settings and settings_form is None:
        settings_form = PortalSettingsForm(
            link_id=link_id,
            settings=content.settings,
            translations=page.tenant.template.translations,
            initial=_settings_initial(content),
            shown=content.settings_values,
        )
    if settings_form is not None and not writable:
        for field in settings_form.fields.values():
            field.disabled = True
    for state in content.slots:
        state.reconnect_url = _reconnect_url(page, state) if writable else ""
        state.reconnect_popup_url = _reconnect_popup_url(page, state) if writable else ""
    # How a slot's edit, opened from here, ended (connect.views sends the person back).
    slots = {state.key: state for state in content.slots if state.is_ok}
    connection_saved = slots.get(request.GET.get("saved", ""))
    connection_canceled = slots.get(request.GET.get("canceled", ""))
    connection_problem = (
        connections_problem or _check_too_soon(request) or _oauth_problem(request, content.slots)
    )
    checked = request.GET.get("checked", "") if not connections_problem else ""
    if not content.check_outcome_holds(checked):
        checked = ""
    applying = (
        content.setting_up
        or (content.settings_job and content.settings_job.status == "running")
        or any(flow.switching for flow in content.flows)
    )
    refresh = (
        REFRESH_SECONDS if applying else RUN_REFRESH_SECONDS if content.runs_in_progress else 0
    )
    if request.method != "GET":
        refresh = 0  # a POST's answer: see RUN_REFRESH_SECONDS
    # Without scripts the page reloads itself (a <noscript> refresh), which wipes what a person
    # has half typed into the settings form: so not for a run, which may go on for hours, while
    # that form can be changed (WCAG 2.2.1; portal.js waits for them instead). A change being
    # applied takes seconds.
    noscript_refresh = refresh if applying or settings_form is None or not writable else 0
    return page.render(
        request,
        "connect/portal/page.html",
        {
            "portal": content,
            "sections": PortalSection,
            "writable": writable,
            "settings_form": settings_form,
            "settings_outcome": request.GET.get("settings", ""),
            "connection_saved": connection_saved,
            "connection_canceled": connection_canceled,
            "connection_problem": connection_problem,
            "connections_checked": checked,
            "connections_check_token": form_token_issue(
                link_id=link_id, slot_key=CONNECTIONS_CHECK_FORM
            ),
            "switched_flow": request.GET.get("flow", ""),
            "flows_token": form_token_issue(link_id=link_id, slot_key=FLOWS_FORM),
            "flows_error": flows_error,
            "notice": notice,
            "refresh_seconds": refresh,
            "noscript_refresh_seconds": noscript_refresh,
            "toggleable": {f.path for f in toggleable_flows(version=page.tenant.template_version)},
            # The host's page to go back to, as on the setup's status page: the only way back
            # for a customer who reached this page in the whole window (a link sent to them,
            # an app's consent the browser would not open in a popup).
            "return_url": return_url_of(page),
        },
        status=status,
    )


def _check_too_soon(request) -> str:
    """How long to wait before "Check again" works, when the page is the one a check clicked
    too early lands on (`?checked=too-soon&until=<unix time>`); nothing once the wait is
    over."""
    if request.GET.get("checked") != CHECK_TOO_SOON:
        return ""
    try:
        seconds = math.ceil(float(request.GET.get("until", "")) - time.time())
    except (ValueError, OverflowError):  # anyone's to write: "nan", "inf", words
        return ""
    if seconds <= 0:
        return ""
    # Never more than a turn's length, whatever the address says (the seconds are rounded up).
    seconds = min(seconds, CONNECTION_CHECK_MIN_SECONDS)
    return ngettext(
        "We checked moments ago. Please wait about %(seconds)s second and check again.",
        "We checked moments ago. Please wait about %(seconds)s seconds and check again.",
        seconds,
    ) % {"seconds": seconds}


def _oauth_problem(request, slots) -> str:
    """Why a consent started here did not connect. Most outcomes go to the form, which says
    it at the slot; the page of an expired or reused sign-in (or of a start refused: too
    many, unavailable) cannot name the way back, so oauth_popup.js reloads this page with
    `?oauth=<outcome>&slot=<key>`. Only an outcome's own sentence is shown (oauth_outcomes)."""
    slot_key = request.GET.get("slot", "")
    for state in slots:
        if state.key == slot_key and state.is_oauth:
            return outcome_message(
                request.GET.get("oauth", ""), app=state.label, connected=state.is_ok
            )
    return ""


def _settings_initial(content) -> dict:
    """The tenant's saved settings as the form's initial values: what an unposted form shows,
    and what a posted one shows again where its value was not one of the options."""
    return {FIELD_PREFIX + k: v for k, v in content.settings_values.items()}


def _render_run(
    request, page: Page, run_id: str, *, read_again="", retry_job_ids=None, problem="", status=200
):
    if PortalSection.RUNS not in (page.link.sections or []):
        return _refuse(request, page)
    found = portal_run_get(tenant=page.tenant, job_id=run_id)
    if found is None:
        return page.render(request, "connect/portal/run_missing.html", status=404)
    detail = portal_run_errors(
        link=page.link, run=found, read_again=read_again, retry_job_ids=retry_job_ids
    )
    return page.render(
        request,
        "connect/portal/run.html",
        {
            "detail": detail,
            "writable": not page.link.read_only,
            "errors_token": form_token_issue(link_id=str(page.link.id), slot_key=RUN_ERRORS_FORM),
            "done": request.GET.get("done", "") if not problem else "",
            "problem": problem,
            "back_url": _portal_url(page, anchor="runs"),
            # Where a connection that failed the run is checked and reconnected: only when the
            # link shows the connections (another section's link would lead nowhere).
            "connections_url": _portal_url(page, anchor="connections")
            if PortalSection.CONNECTIONS in page.link.sections
            else "",
            # Also while the run itself has not ended: its status, counts and errors change
            # as the mirror follows it, and "Running" must not stay once it is over.
            "refresh_seconds": 0
            if request.method != "GET"  # a POST's answer: see RUN_REFRESH_SECONDS
            else REFRESH_SECONDS
            if detail.retry == "running"
            else RUN_REFRESH_SECONDS
            if not detail.run.run.is_finished
            else 0,
        },
        status=status,
    )


def _reconnect_popup_url(page: Page, state) -> str:
    """An OAuth slot's consent in a popup (oauth_popup.js), as on the credential form: the
    customer stays in the host app, whose iframe learns the outcome and shows this page again.
    The top-window URL below is what a browser without scripts, or blocking popups, follows."""
    slot = page.tenant.template_version.slot(state.key)
    if slot is None or not is_oauth_slot(slot):
        return ""
    form_token = form_token_issue(link_id=str(page.link.id), slot_key=state.key)
    return oauth_start_url(token=page.token, slot_key=state.key, form_token=form_token, back=True)


def _reconnect_url(page: Page, state) -> str:
    """Key-based slots reconnect on the credential form; OAuth slots go straight to the app's
    consent (the form's own start, in the top window where popups are blocked: see
    `_reconnect_popup_url`). Either way `back=portal`, so that Cancel and a successful save
    come back to this page. The form opens on the slot's own card (as its "Replace
    credentials" link does), not at its top: on a phone the slot's fields may be a screen
    further down, and the keyboard starts there."""
    slot = page.tenant.template_version.slot(state.key)
    if slot is not None and is_oauth_slot(slot):
        form_token = form_token_issue(link_id=str(page.link.id), slot_key=state.key)
        return oauth_start_url(
            token=page.token, slot_key=state.key, form_token=form_token, mode="top", back=True
        )
    query = {"edit": state.key, "back": BACK_TO_PORTAL}
    return (
        reverse("connect:form", args=[page.token]) + "?" + urlencode(query) + f"#slot-{state.key}"
    )


def _rate_limited(request, page: Page, *, run_id: str = "", **render):
    """None when the write may go ahead; otherwise the page that says to wait (429), or that
    the limit cannot be counted (503)."""
    try:
        decision = submission_acquire(link_id=f"{page.link.id}:portal")
    except SubmissionLimitUnavailable:
        logger.warning("portal change refused: the rate limiter is unavailable")
        message = _("We cannot save changes right now. Please try again shortly.")
        response = (
            _render_run(request, page, run_id, problem=message, status=503)
            if run_id
            else _render_portal(request, page, notice=message, status=503, **render)
        )
        return unavailable.unavailable_mark(response)
    if decision.allowed:
        return None
    message = ngettext(
        "Too many changes in a short time. Please wait about %(seconds)s second and try again.",
        "Too many changes in a short time. Please wait about %(seconds)s seconds and try again.",
        decision.retry_after_seconds,
    ) % {"seconds": decision.retry_after_seconds}
    response = (
        _render_run(request, page, run_id, problem=message, status=429)
        if run_id
        else _render_portal(request, page, notice=message, status=429, **render)
    )
    response["Retry-After"] = str(decision.retry_after_seconds)
    return response


def _plain_message(error: ApplicationError) -> str:
    """What the person can act on: the domain's messages name settings and integrator.io,
    which they never see."""
    if error.http_status in (429, 503) or error.http_status >= 500:
        return _(
            "The integration platform is busy. Nothing was changed; please try again in a minute."
        )
    if error.code in ("setting_not_editable", "flow_not_toggleable"):
        return _("That cannot be changed here.")
    if error.code == "tenant_deprovisioned":
        return _("This integration has been removed; nothing can be changed.")
    if error.code == "error_management_unsupported":
        return _("These errors cannot be retried or resolved from here.")
    if isinstance(error, RunErrorsNoneOpen):
        return _(
            "There are no open errors left to retry: they were retried or resolved already. "
            "The list below is up to date."
        )
    if isinstance(error, RunErrorsNoneOpenToResolve):
        return _(
            "There are no open errors left to resolve: they were retried or resolved already. "
            "The list below is up to date."
        )
    if error.code == "run_errors_not_retriable":
        return _("These errors cannot be retried: the record was never read.")
    if isinstance(error, (RunErrorsNotFound, RunNotFound)):
        return _("This error is no longer open. The list below is up to date.")
    if error.code == "invalid_settings":
        return _("These settings do not fit together. Check the values and try again.")
    return _("That did not work. Nothing was changed; please try again.")


def _post_allowed(request, page: Page, *, form: str) -> bool:
    """A change through the link: from an allowed origin, with this form's token."""
    return post_origin_allowed(request, tenant=page.tenant) and form_token_valid(
        token=request.POST.get("form_token", ""), link_id=str(page.link.id), slot_key=form
    )


def _refuse(request, page: Page):
    logger.warning("portal post refused: bad form token, origin, section or a read-only link")
    # The way on is the page the change was made on, not the credential form.
    return page.render(request, "connect/refused.html", {"back_url": _portal_url(page)}, status=403)

"""The credential form pages, reached through a signed link: `/connect/<token>/...`.

- `form`: every slot the link covers, with its state, and a form for those that need input.
  One view serves both adding credentials and replacing them (a reconnect updates the same
  integrator.io connection).
- `status`: the tenant's provisioning progress; `status_json` is its JSON twin, polled by a
  few lines of JavaScript (the HTML page refreshes itself when scripts are off).

No page here reads or sets a cookie: inside a host app's iframe the browser may not send
them. Protection against cross-site posts comes from the per-form token and the Origin check
(see `connect.embedding`), which is why the views are `csrf_exempt`.
"""

import logging
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from audit.context import Actor, actor_set
from connect.branding import Brand, brand_for
from connect.dead_links import dead_link_answer
from connect.embedding import (
    embedding_headers,
    new_nonce,
    post_origin_allowed,
    return_url_allowed,
    tenant_origins,
)
from connect.form_tokens import form_token_issue
from connect.forms import slot_form_class
from connect.language import link_language_activate
from connect.oauth_outcomes import CONNECTED, outcome_message
from connect.post_body import STATUS, post_body_unreadable
from connect.selectors import connect_progress, connect_slot_states, marked_remote_reason
from connect.submission_limit import SubmissionLimitUnavailable, submission_acquire
from connect.template_texts import template_text
from connect.unavailable_page import unavailable_page
from core import log_context, unavailable
from core.errors import ApplicationError, DependencyUnavailableError
from provisioning.models import JobOrigin
from provisioning.services import credentials_submit
from tenants.connect_links import connect_link_resolve
from tenants.errors import ConnectLinkInvalid
from tenants.models import ConnectLink, Tenant
from tenants.services.oauth_maps import is_oauth_slot

logger = logging.getLogger(__name__)

# Seconds between two looks at the job, for scripts and for the no-script refresh.
STATUS_POLL_SECONDS = 2
# `back=portal`: a slot's edit opened from the customer's integration page returns there.
BACK_TO_PORTAL = "portal"


@dataclass
class Page:
    """What every connect page knows about the request it answers."""

    token: str
    link: ConnectLink | None
    brand: Brand
    nonce: str
    # The tenant's allowed origins: the pages that may frame this one (its CSP), and the only
    # ones its height is told to (frame_height.js).
    frame_origins: list[str]

    @property
    def tenant(self) -> Tenant:
        return self.link.tenant

    def render(self, request, template: str, context: dict | None = None, *, status=200):
        return render(
            request,
            template,
            {
                "page": self,
                "brand": self.brand,
                "nonce": self.nonce,
                "frame_origins": self.frame_origins,
                **(context or {}),
            },
            status=status,
        )


def connect_page(view=None, *, answers_json: bool = False):
    """Resolve the link, brand the page, and set the embedding headers on every answer.
    `answers_json`: a link that does not open is told as JSON (the status page's script
    polls such a view), with the same status as its page."""
    if view is None:
        return lambda view: connect_page(view, answers_json=answers_json)

    @sensitive_post_parameters()
    @csrf_exempt
    @xframe_options_exempt
    @never_cache
    @wraps(view)
    def wrapped(request, token: str, **kwargs):
        nonce = new_nonce()
        try:
            link = connect_link_resolve(token)
        except ConnectLinkInvalid as error:
            return dead_link_answer(request, error, nonce=nonce, as_json=answers_json)
        except unavailable.DATABASE_ERRORS as error:
            return _unavailable(request, error, link=None, nonce=nonce)
        link_language_activate(request, link)
        page = Page(
            token=token,
            link=link,
            brand=brand_for(template=link.tenant.template),
            nonce=nonce,
            frame_origins=tenant_origins(link.tenant),
        )
        # Logs name tenants by their external id, for the rest of the request.
        log_context.request_bind(tenant=link.tenant.external_id)
        # The end customer, known by the link they opened, acts in the audit log.
        actor_set(Actor.connect_link(link_id=link.id, tenant=link.tenant.external_id))
        try:
            if unreadable := post_body_unreadable(request):
                response = _unreadable_post(request, page, reason=unreadable)
            elif link.read_only and request.method not in ("GET", "HEAD"):
                # A read-only link (the portal's) changes nothing, whichever page posts.
                response = _refuse(request, page)
            elif request.method == "HEAD":
                # GET without the body (RFC 9110, 9.3.2), which the server leaves out; link
                # checkers ask it, and a working link must not answer 405.
                request.method = "GET"
                try:
                    response = view(request, page, **kwargs)
                finally:
                    request.method = "HEAD"
            else:
                response = view(request, page, **kwargs)
        except unavailable.DATABASE_ERRORS as error:
            return _unavailable(request, error, link=link, nonce=nonce)
        return embedding_headers(
            response, frame_origins=page.frame_origins, brand=page.brand, nonce=nonce
        )

    return wrapped


def _unavailable(request, error: Exception, *, link: ConnectLink | None, nonce: str):
    """The database failed: a page that says to try again, still framable by the tenant's
    allowed origins once its link is known (the user is inside the host app's iframe)."""
    unavailable.database_unavailable_log(error)
    brand = brand_for(template=link.tenant.template) if link else brand_for()
    origins = tenant_origins(link.tenant) if link else []
    response = unavailable_page(request, brand=brand, nonce=nonce, frame_origins=origins)
    return embedding_headers(response, frame_origins=origins, brand=brand, nonce=nonce)


@connect_page
def form(request, page: Page):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if page.link.read_only:
        # Its page is the integration page, which shows the connections and changes nothing:
        # this one's fields and buttons would all be refused once sent (connect_page).
        return HttpResponseRedirect(reverse("connect:portal", args=[page.token]), status=303)
    states = connect_slot_states(tenant=page.tenant, only_slot=page.link.slot_key)
    back = back_to_portal_asked(request, page)
    if request.method == "GET":
        saved = request.GET.get("saved", "")
        # Cancel on a slot's edit lands here: the slot closes again, and nothing was saved.
        canceled = request.GET.get("canceled", "")
        editing = {request.GET.get("edit", "")}
        if page.link.slot_key and page.link.slot_key not in (saved, canceled):
            # A link for one slot exists to (re)enter that slot's credentials.
            editing.add(page.link.slot_key)
        if request.GET.get("oauth") and request.GET.get("oauth") != CONNECTED:
            # A consent that did not connect: its slot stays open with the reason, also when
            # it was already connected (a reconnect the person declined).
            editing.add(request.GET.get("slot", ""))
        for state in states:
            if not state.is_ok or state.key in editing:
                _offer(page, state, back=back)
        _oauth_outcome_show(request, page, states)
        return _render_form_page(request, page, states, saved=saved, canceled=canceled, back=back)

    state = next((s for s in states if s.key == request.POST.get("slot")), None)
    if state is None or is_oauth_slot(_slot(page, state.key)):
        # An OAuth slot has no fields to post: it connects through the app's consent.
        return _refuse(request, page)
    form_class = slot_form_class(_slot(page, state.key), page.tenant.template.translations)
    form = form_class(request.POST, link_id=str(page.link.id))
    if not post_origin_allowed(request, tenant=page.tenant) or not form.token_is_valid:
        return _refuse(request, page)
    state.form = form
    for other in states:
        if other is not state and not other.is_ok:
            _offer(page, other, back=back)

    if not form.is_valid():
        return _render_form_page(request, page, states, back=back, failed=state)
    # Whatever happens next, the form is shown again with the addresses as they are tried.
    form.show_addresses_as_tried()

    # Counted only when the credentials are about to be tried against the remote app.
    try:
        decision = submission_acquire(link_id=str(page.link.id))
    except SubmissionLimitUnavailable:
        logger.warning("connect submission refused: the rate limiter is unavailable")
        form.add_error(None, _("We cannot check credentials right now. Please try again shortly."))
        # The warning above is the request's one log line (Redis down is an outage, not a bug).
        return unavailable.unavailable_mark(
            _render_form_page(request, page, states, back=back, failed=state, status=503)
        )
    if not decision.allowed:
        logger.info("connect submission refused by the rate limit (slot %s)", state.key)
        form.add_error(
            None,
            ngettext(
                "Too many attempts. Please wait a minute before you try again "
                "(about %(seconds)s second).",
                "Too many attempts. Please wait a minute before you try again "
                "(about %(seconds)s seconds).",
                decision.retry_after_seconds,
            )
            % {"seconds": decision.retry_after_seconds},
        )
        response = _render_form_page(request, page, states, back=back, failed=state, status=429)
        response["Retry-After"] = str(decision.retry_after_seconds)
        return response

    try:
        outcome = credentials_submit(
            tenant=page.tenant, slot_key=state.key, values=form.values, requested_by=JobOrigin.FORM
        )
    except ApplicationError as error:
        logger.info("connect submission for slot %s refused: %s", state.key, error.code)
        _add_service_errors(form, error)
        status = (
            error.http_status
            if error.http_status >= 500 or isinstance(error, DependencyUnavailableError)
            else 200
        )
        return _render_form_page(request, page, states, back=back, failed=state, status=status)

    submission = outcome.submission
    if not submission.ok:
        logger.info("connect submission for slot %s: credentials did not work", state.key)
        # The failure was recorded on the slot; show its new state beside the message.
        fresh = connect_slot_states(tenant=page.tenant, only_slot=state.key)[0]
        state.status, state.last_ping_at = fresh.status, fresh.last_ping_at
        reason = marked_remote_reason(
            message=submission.message, app=state.label, secrets=form.secret_values
        )
        return _render_form_page(
            request, page, states, back=back, failed=state, remote_error=reason
        )

    logger.info("connect submission for slot %s: connected", state.key)
    if back:
        # Opened from the integration page: the person goes back to where they came from.
        return HttpResponseRedirect(
            back_to_portal_url(page.token, outcome="saved", slot_key=state.key), status=303
        )
    # Each address with its own fragment, the top of the page where the outcome is said: the
    # form posts to `#slot-<key>-errors` (a refusal lands on its errors), and a browser keeps
    # that fragment across a redirect without one.
    if submission.all_slots_ok:
        target = reverse("connect:status", args=[page.token]) + "#main"
        return HttpResponseRedirect(target, status=303)
    target = reverse("connect:form", args=[page.token]) + f"?saved={state.key}#main"
    return HttpResponseRedirect(target, status=303)


@connect_page
def status(request, page: Page):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    progress = connect_progress(tenant=page.tenant)
    return page.render(
        request,
        "connect/status.html",
        {
            "progress": progress,
            "return_url": return_url_of(page),
            "poll_seconds": STATUS_POLL_SECONDS,
            # Inside the host app's iframe "close this window" would mean the host app's own
            # tab; browsers say where the page is shown (Fetch Metadata).
            "framed": request.headers.get("Sec-Fetch-Dest") == "iframe",
        },
    )


@connect_page(answers_json=True)
def status_json(request, page: Page):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return JsonResponse(connect_progress(tenant=page.tenant).as_json())


def _slot(page: Page, slot_key: str) -> dict:
    return page.tenant.template_version.slot(slot_key)


def back_to_portal_url(token: str, *, outcome: str, slot_key: str) -> str:
    """The integration page, saying above the slots how the slot's edit ended (`outcome` is
    `saved` or `canceled`). The fragment is that notice: a browser focuses a focusable
    fragment target, and takes focus away from anything else."""
    query = urlencode({outcome: slot_key})
    return f"{reverse('connect:portal', args=[token])}?{query}#connections-outcome"


def back_to_portal_asked(request, page: Page) -> bool:
    """Whether the slot's edit (or its OAuth consent) was opened from the integration page
    (`back=portal`), so that Cancel and a successful save return there. Only a portal link
    has that page."""
    params = request.POST if request.method == "POST" else request.GET
    return params.get("back") == BACK_TO_PORTAL and bool(page.link.sections)


def _offer(page: Page, state, *, back: bool = False) -> None:
    """Give the slot its way to (re)connect: a form of its fields, or for an OAuth slot the
    button that starts the app's consent. Non-secret values are kept in the form (e.g. the
    store's address); secrets never are."""
    slot = _slot(page, state.key)
    if not is_oauth_slot(slot):
        form_class = slot_form_class(slot, page.tenant.template.translations)
        state.form = form_class(link_id=str(page.link.id), initial=state.field_values)
        return
    form_token = form_token_issue(link_id=str(page.link.id), slot_key=state.key)
    start = {"token": page.token, "slot_key": state.key, "form_token": form_token, "back": back}
    oauth = slot["oauth"]
    state.oauth = {
        "popup_url": oauth_start_url(**start),
        "top_url": oauth_start_url(**start, mode="top"),
        "access": template_text(
            page.tenant.template.translations,
            oauth.get("access") or ", ".join(oauth.get("scopes") or []),
        ),
    }


def oauth_start_url(
    *, token: str, slot_key: str, form_token: str, mode: str = "", back: bool = False
) -> str:
    query = {
        "form_token": form_token,
        **({"mode": mode} if mode else {}),
        **({"back": BACK_TO_PORTAL} if back else {}),
    }
    return reverse("connect:oauth_start", args=[token, slot_key]) + "?" + urlencode(query)


def _oauth_outcome_show(request, page: Page, states) -> None:
    """After a consent that did not connect, its slot says why (the callback sent the user
    back with `?oauth=<outcome>&slot=<key>`)."""
    slot_key = request.GET.get("slot", "")
    for state in states:
        if state.key == slot_key and state.oauth is not None:
            state.oauth_outcome = request.GET.get("oauth", "")
            state.oauth_error = outcome_message(
                state.oauth_outcome, app=state.label, connected=state.is_ok
            )


def return_url_of(page: Page) -> str:
    """The link's way back to the host app, while its origin is still one of the tenant's."""
    url = page.link.return_url
    return url if return_url_allowed(url=url, tenant=page.tenant) else ""


def _render_form_page(
    request,
    page,
    states,
    *,
    saved="",
    canceled="",
    back=False,
    failed=None,
    remote_error=None,
    status=200,
):
    all_ok = all(s.is_ok for s in states)
    # A link for one slot shows that slot alone: its being connected says nothing of the
    # tenant's other apps, and "everything is in place" would be untrue while one is missing.
    others_missing = bool(
        all_ok
        and page.link.slot_key
        and not all(s.is_ok for s in connect_slot_states(tenant=page.tenant))
    )
    return page.render(
        request,
        "connect/form.html",
        {
            "others_missing": others_missing,
            "template": page.tenant.template,
            # Once every app is connected, where the setup stands (`active` once it is live):
            # a link opened again later must not say the integration is still being set up.
            "setup": connect_progress(tenant=page.tenant).state if all_ok else "",
            "states": states,
            "saved": next((s for s in states if s.key == saved and s.is_ok), None),
            "canceled": next((s for s in states if s.key == canceled and s.is_ok), None),
            # Where Cancel goes: the integration page when the edit was opened there.
            "back": BACK_TO_PORTAL if back else "",
            "failed": failed,
            "remote_error": remote_error,
            "all_ok": all_ok,
            # The template has one app only: once it works, the page names it rather than
            # speaking of "your apps".
            "one_app": len(page.tenant.template_version.slots) == 1,
            # How the page's apps connect, for the lead's words: "typed" (credentials typed
            # in), "oauth" (approved on the app's own page) or "mixed".
            "connect_by": _connect_by(states),
            # The consent buttons the page shows, for the lead to name them as they read.
            "oauth_button": _oauth_button(states),
            "connected_count": sum(1 for s in states if s.is_ok),
        },
        status=status,
    )


def _connect_by(states) -> str:
    # The slots the page asks something of (a form, a consent button); the others are done.
    asking = [state for state in states if state.form is not None or state.oauth is not None]
    kinds = {state.is_oauth for state in asking or states}
    if kinds == {True}:
        return "oauth"
    return "mixed" if kinds == {True, False} else "typed"


def _oauth_button(states) -> str:
    """What the page's consent buttons say (connect/_slot.html): "connect" ("Connect with
    <app>"), "reconnect" ("Reconnect with <app>", for an app connected before, working or not)
    or "both"; "" without any."""
    words = {
        "reconnect" if state.is_ok or state.has_connection else "connect"
        for state in states
        if state.oauth is not None
    }
    return "both" if len(words) > 1 else next(iter(words), "")


# The codes of this service's own integrator.io token failing (refused by integrator.io,
# or no configured key opens it): core.integrator_client, core.accounts.
SERVICE_TOKEN_PROBLEMS = frozenset({"integrator_token_refused", "integrator_token_unavailable"})


def _add_service_errors(form, error: ApplicationError) -> None:
    """Field messages go on their fields (the tenants service names them `fields.<name>`).

    Other messages are written for the host app's developers and operators (they name
    integrator.io, which end users never see), so the page says something they can act on.
    """
    placed = False
    for path, messages in error.fields.items():
        name = path.removeprefix("fields.")
        if name in form.fields and name != "form_token":
            for message in messages:
                form.add_error(name, message)
            placed = True
    if placed:
        return
    # This service's own integrator.io token refused or unreadable: only an operator fixes
    # it, so "try again in a minute" would send the person round in circles.
    if error.code in SERVICE_TOKEN_PROBLEMS:
        form.add_error(
            None,
            _(
                "We cannot check credentials at the moment because of a problem on our side. "
                "Nothing was saved; please try again later, or contact support if this keeps "
                "happening."
            ),
        )
    # integrator.io limiting our calls (429) is as passing as it failing: "try again in a
    # minute", not "contact support", which tells the person the credentials are the problem.
    elif error.http_status >= 500 or isinstance(error, DependencyUnavailableError):
        form.add_error(
            None,
            _(
                "We cannot check credentials right now. Nothing was saved; please try again "
                "in a minute."
            ),
        )
    else:
        form.add_error(
            None,
            _(
                "These credentials cannot be saved at the moment. Nothing was saved; please "
                "contact support if this keeps happening."
            ),
        )


def _unreadable_post(request, page: Page, *, reason: str):
    """A post none of our pages sends (connect.post_body): nothing is saved, and the person
    is offered the page the link opens. One warning line, no traceback: not our fault."""
    logger.warning("connect post refused: its body could not be read (%s)", reason)
    back = (
        reverse("connect:portal", args=[page.token])
        if page.link.sections
        else reverse("connect:form", args=[page.token])
    )
    return page.render(
        request,
        "connect/post_unreadable.html",
        {"reason": reason, "back_url": back, "to_portal": bool(page.link.sections)},
        status=STATUS[reason],
    )


def _refuse(request, page: Page):
    logger.warning("connect submission refused: bad form token, origin or slot")
    return page.render(request, "connect/refused.html", status=403)

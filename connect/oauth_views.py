"""OAuth 2 slots of the credential form: starting the app's consent, and coming back from it.

Providers refuse to be framed, so the consent never runs inside the host app's iframe: the
form opens `start` in a popup (or, when popups are blocked, navigates the top window to it).
`start` redirects to the app's consent page with a fresh `state` and PKCE challenge
(connect.oauth_state), and sets a cookie, first-party in that top-level window, that ties the
consent to this browser. The app sends the browser back to the one fixed redirect URI,
`/connect/oauth/callback`, which takes the state (once), checks the cookie and the link,
exchanges the code server-side and hands the tokens straight to the tenants service (ping,
then create or update the connection). The code and the tokens never reach a page, a log or
our database.

The callback answers a popup with a page that tells the form the outcome by `postMessage`,
addressed to this service's own origin only (the form in the iframe; the host page never gets
it), and then closes; a top-level window is sent back to the form.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache

from audit.context import Actor, actor_set
from connect import oauth_outcomes
from connect.branding import brand_for
from connect.embedding import embedding_headers, new_nonce
from connect.form_tokens import form_token_valid
from connect.language import language_activate, link_language_activate
from connect.oauth_state import (
    ConsentInProgress,
    OAuthStateUnavailable,
    oauth_state_issue,
    oauth_state_spent,
    oauth_state_take,
    state_cookie_name,
    state_language,
)
from connect.selectors import connect_link_slot_state, connect_slot_states
from connect.submission_limit import SubmissionLimitUnavailable, submission_acquire
from connect.template_texts import template_text
from connect.views import (
    BACK_TO_PORTAL,
    Page,
    back_to_portal_asked,
    back_to_portal_url,
    connect_page,
)
from core import log_context, unavailable
from core.errors import ApplicationError, DependencyUnavailableError
from provisioning.models import JobOrigin
from provisioning.services import oauth_credentials_submit
from tenants.connect_links import connect_link_resolve
from tenants.errors import (
    ConnectLinkExpired,
    ConnectLinkInvalid,
    OAuthExchangeFailed,
    OAuthNotConfigured,
)
from tenants.models import Tenant
from tenants.services.oauth_maps import is_oauth_slot
from tenants.services.oauth_slots import oauth_authorization_url, oauth_code_exchange

logger = logging.getLogger(__name__)

CALLBACK_PATH_NAME = "connect:oauth_callback"
# Errors an app sends back from its consent (RFC 6749 section 4.1.2.1) that name the
# deployment's client or the template's scopes, not the customer's answer.
CONFIGURATION_ERRORS = ("unauthorized_client", "invalid_scope")


def _keep_opener(response):
    """The popup must keep its `window.opener` (the form in the host app's iframe) to tell it
    the outcome. Django's default `Cross-Origin-Opener-Policy: same-origin` would cut it: the
    opener's top window is the host app's, another origin. The message is still addressed to
    this service's origin only, and the page carries nothing secret."""
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


def _callback_uri(request) -> str:
    """The one redirect URI registered at each app: this service's callback."""
    return request.build_absolute_uri(reverse(CALLBACK_PATH_NAME))


@connect_page
def start(request, page: Page, slot_key: str):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    slot = page.tenant.template_version.slot(slot_key)
    form_token = request.GET.get("form_token", "")
    if (
        slot is None
        or not is_oauth_slot(slot)
        or (page.link.slot_key and page.link.slot_key != slot_key)
        or page.link.read_only
        or not form_token_valid(token=form_token, link_id=str(page.link.id), slot_key=slot_key)
    ):
        logger.warning("oauth start refused: bad form token or slot")
        return page.render(request, "connect/refused.html", status=403)
    mode = "top" if request.GET.get("mode") == "top" else "popup"
    # Started from the integration page (a portal link's): the outcome returns there.
    back = BACK_TO_PORTAL if back_to_portal_asked(request, page) else ""
    return _consent_redirect(request, page, slot, mode, back=back)


@connect_page
def consent(request, page: Page, slot_key: str):
    """Straight to the app's consent, for a link the host API issued for this one OAuth slot
    (its `consent_url`): no form first, so no form token; the link, made for this slot only,
    is the authority. A top-level navigation, so the outcome returns to the form's pages."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    slot = page.tenant.template_version.slot(slot_key)
    if slot is None or not is_oauth_slot(slot) or page.link.slot_key != slot_key:
        logger.warning("oauth consent refused: the link is not for this OAuth slot")
        return page.render(request, "connect/refused.html", status=403)
    return _consent_redirect(request, page, slot, "top")


def _consent_redirect(request, page: Page, slot: dict, mode: str, *, back: str = ""):
    """A fresh state and PKCE challenge, a browser-binding cookie, and the app's consent.

    Each start keeps a state in Redis (and sets a cookie) for CONNECT_OAUTH_STATE_SECONDS: at
    most CONNECT_SUBMISSIONS_PER_MINUTE starts per link per minute, or anyone holding a link
    could fill Redis with states by reloading the start URL."""
    slot_key = slot["key"]
    try:
        decision = submission_acquire(link_id=f"{page.link.id}:oauth")
    except SubmissionLimitUnavailable:
        logger.warning("oauth start refused: the rate limiter is unavailable")
        return _result_page(request, page.tenant, "unavailable", slot, next_url="", status=503)
    if not decision.allowed:
        logger.info("oauth start refused by the rate limit (slot %s)", slot_key)
        response = _result_page(request, page.tenant, "too_many", slot, next_url="", status=429)
        response["Retry-After"] = str(decision.retry_after_seconds)
        return response
    redirect_uri = _callback_uri(request)
    try:
        started = oauth_state_issue(
            link_id=str(page.link.id),
            link_token=page.token,
            slot_key=slot_key,
            redirect_uri=redirect_uri,
            mode=mode,
            back=back,
            language=translation.get_language() or "",
        )
        consent_url = oauth_authorization_url(
            slot=slot, state=started.state, challenge=started.challenge, redirect_uri=redirect_uri
        )
    except OAuthStateUnavailable:
        logger.warning("oauth start refused: the state store is unavailable")
        return _result_page(request, page.tenant, "unavailable", slot, next_url="", status=503)
    except OAuthNotConfigured as error:
        logger.error("oauth start refused: %s", error.message)
        return _result_page(request, page.tenant, "not_configured", slot, next_url="")
    logger.info("oauth consent started for slot %s (%s)", slot_key, mode)
    response = _keep_opener(HttpResponseRedirect(consent_url))
    # First-party in the popup or top window that runs the consent; the callback, reached by a
    # top-level GET from the app, gets it back under SameSite=Lax.
    response.set_cookie(
        state_cookie_name(started.state),
        started.browser_nonce,
        max_age=settings.CONNECT_OAUTH_STATE_SECONDS,
        path=reverse(CALLBACK_PATH_NAME),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
def callback(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    state = request.GET.get("state", "")
    # Until the state's link is known (it may never be: spent, late, Redis down), the page
    # speaks the language the consent was started in, which its state names.
    language_activate(request, state_language(state))
    try:
        consent = oauth_state_take(state)
    except OAuthStateUnavailable:
        logger.warning("oauth callback: the state store is unavailable")
        return _result_page(request, None, "unavailable", None, next_url="", status=503)
    if consent is None:
        # Replayed (reloaded, or opened again from the history): say what holds now.
        if replayed := _replayed(request, state):
            return replayed
        # Unknown, expired or tampered with: nothing to finish, nothing to name.
        logger.warning("oauth callback: unknown, expired or used state")
        return _result_page(request, None, "expired", None, next_url="", status=400)
    response = _finish(request, state, consent)
    response.delete_cookie(state_cookie_name(state), path=reverse(CALLBACK_PATH_NAME))
    return response


def _replayed(request, state: str):
    """The callback of a sign-in already finished, opened again: when its app is connected
    now, the page says so (that sign-in, or a later one, connected it); otherwise that
    nothing was saved this time, at the slot it was for. None when the state was never
    used, or its link no longer works: the plain answer then."""
    try:
        spent = oauth_state_spent(state)
        found = spent and connect_link_slot_state(link_id=spent.link_id, slot_key=spent.slot_key)
    except (OAuthStateUnavailable, *unavailable.DATABASE_ERRORS):
        return None
    if not found:
        return None
    link, slot_state = found
    link_language_activate(request, link)
    slot = link.tenant.template_version.slot(slot_state.key)
    if slot is None or not is_oauth_slot(slot):
        return None
    logger.info("oauth callback for slot %s: a used state, opened again", slot_state.key)
    if slot_state.is_ok:
        return _result_page(
            request, link.tenant, oauth_outcomes.CONNECTED, slot, next_url="", replayed=True
        )
    return _result_page(request, link.tenant, "expired", slot, next_url="", status=400)


def _finish(request, state: str, consent: ConsentInProgress):
    try:
        link = connect_link_resolve(consent.link_token)
    except ConnectLinkExpired as error:
        # It stopped working during the consent: say so in the link's language.
        language_activate(request, error.locale)
        link = None
    except ConnectLinkInvalid:
        link = None
    except unavailable.DATABASE_ERRORS as error:
        unavailable.database_unavailable_log(error)
        return _result_page(request, None, "unavailable", None, next_url="", status=503)
    if link is None or str(link.id) != consent.link_id:
        return _result_page(request, None, "link_expired", None, next_url="", status=410)
    link_language_activate(request, link)
    tenant = link.tenant
    # The callback's URL names no link: its lines name the tenant once the state has.
    log_context.request_bind(tenant=tenant.external_id)
    actor_set(Actor.connect_link(link_id=link.id, tenant=tenant.external_id))
    slot = tenant.template_version.slot(consent.slot_key)
    if slot is None or not is_oauth_slot(slot):
        return _result_page(request, tenant, "provider_error", None, next_url="", status=400)
    form_url = reverse("connect:form", args=[consent.link_token])

    def failed(outcome: str, status: int = 200):
        # Back to the form, which says why at the slot; from the integration page, the form
        # keeps `back` so that its Cancel (or a save) returns there. The fragment is the slot's
        # error summary, which can take focus: a jump to the slot's card (which cannot) takes
        # focus away from the summary that connect.js focused, and leaves it on nothing.
        query = urlencode(
            {
                "oauth": outcome,
                "slot": slot["key"],
                **({"back": consent.back} if consent.back else {}),
            }
        )
        return _answer(
            request,
            consent,
            tenant,
            outcome,
            slot,
            f"{form_url}?{query}#slot-{slot['key']}-errors",
            status,
            was_connected=connect_slot_states(tenant=tenant, only_slot=slot["key"])[0].is_ok,
        )

    if not consent.browser_matches(request.COOKIES.get(state_cookie_name(state), "")):
        logger.warning("oauth callback for slot %s: started in another browser", slot["key"])
        # No way to the form: its address is the link itself, and this browser holds only a
        # state (seen by the app's consent page, its logs, the history) or is a victim lured
        # to an attacker's consent; either would be handed the link (its credentials, its
        # settings). The page says to go back to the window the sign-in was started in.
        return _result_page(request, tenant, "browser", slot, next_url="", status=400)
    error = request.GET.get("error", "")
    code = request.GET.get("code", "")
    if error in CONFIGURATION_ERRORS:
        # The deployment's client or the template's scopes, refused: every try meets the same.
        logger.error(
            "oauth callback for slot %s: the app refused this deployment's OAuth client or the "
            "template's scopes: %r",
            slot["key"],
            error,
        )
        return failed("not_configured")
    if error or not code:
        # %r: the query string is anyone's to write, and a line break in it would forge a line.
        logger.info("oauth callback for slot %s: the app answered %r", slot["key"], error[:40])
        return failed("denied" if error == "access_denied" else "provider_error")
    try:
        tokens = oauth_code_exchange(
            slot=slot, code=code, verifier=consent.verifier, redirect_uri=consent.redirect_uri
        )
    except OAuthNotConfigured as exc:
        logger.error("oauth callback: %s", exc.message)
        return failed("not_configured")
    except OAuthExchangeFailed as exc:
        logger.info("oauth callback for slot %s: %r", slot["key"], exc.message)
        return failed("exchange_failed")
    try:
        outcome = oauth_credentials_submit(
            tenant=tenant, slot_key=slot["key"], tokens=tokens, requested_by=JobOrigin.FORM
        )
    except ApplicationError as exc:
        logger.info("oauth connection for slot %s refused: %s", slot["key"], exc.code)
        # integrator.io unavailable or limiting our calls (429) says nothing of the tokens.
        transient = exc.http_status >= 500 or isinstance(exc, DependencyUnavailableError)
        return failed("unavailable" if transient else "not_working")
    if not outcome.submission.ok:
        logger.info("oauth connection for slot %s: integrator.io's check failed", slot["key"])
        return failed("not_working")
    logger.info("oauth connection for slot %s: connected", slot["key"])
    if consent.back == BACK_TO_PORTAL:
        next_url = back_to_portal_url(consent.link_token, outcome="saved", slot_key=slot["key"])
    # As after typed credentials that worked (connect.views): the fragment is the top of the
    # page, where the outcome is said, so that focus is there rather than on nothing.
    elif outcome.submission.all_slots_ok:
        next_url = reverse("connect:status", args=[consent.link_token]) + "#main"
    else:
        next_url = f"{form_url}?{urlencode({'saved': slot['key']})}#main"
    return _answer(request, consent, tenant, oauth_outcomes.CONNECTED, slot, next_url, 200)


def _answer(request, consent, tenant, outcome, slot, next_url, status, *, was_connected=False):
    if consent.mode == "top":
        return HttpResponseRedirect(next_url, status=303)
    return _result_page(
        request,
        tenant,
        outcome,
        slot,
        next_url=next_url,
        status=status,
        was_connected=was_connected,
    )


def _result_page(
    request,
    tenant: Tenant | None,
    outcome,
    slot,
    *,
    next_url: str,
    status=200,
    was_connected=False,
    replayed=False,
):
    """The page the popup (or a top window whose consent cannot be traced back) shows: a
    plain message, and a way back to the form. Never framable. `was_connected`: the slot
    was connected before (a reconnect), whose failure leaves that connection as it was.
    `replayed`: the callback of a sign-in already used, opened again."""
    nonce = new_nonce()
    brand = brand_for(template=tenant.template) if tenant else brand_for()
    translations = tenant.template.translations if tenant else None
    app = template_text(translations, slot["label"]) if slot else ""
    response = render(
        request,
        "connect/oauth_done.html",
        {
            "brand": brand,
            "nonce": nonce,
            "outcome": outcome,
            "connected": outcome == oauth_outcomes.CONNECTED,
            "message": oauth_outcomes.outcome_message(outcome, app=app, connected=was_connected),
            "app": app,
            "slot_key": slot["key"] if slot else "",
            "next_url": next_url,
            "replayed": replayed,
        },
        status=status,
    )
    return _keep_opener(embedding_headers(response, frame_origins=[], brand=brand, nonce=nonce))

"""OAuth 2 slots end to end without a browser: the form's Connect link, the app's consent at
the sandbox's demo CRM, the callback's code exchange, ping and save; denial and the ways a
callback must fail cleanly (replayed, tampered, mixed up between tenants, another browser,
redirect attempts); nothing of the tokens in our database, Redis or logs."""

import html
import logging
import re

import pytest
import redis
import requests
from django.apps import apps
from django.conf import settings as django_settings
from django.test import Client

from connect import oauth_outcomes, oauth_views
from connect.oauth_state import OAuthStateUnavailable
from core import log_context
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tenants.services import template_load, tenant_create
from tests.connect.oauth_helpers import (
    callback_path,
    connect_by_consent,
    connect_start_url,
    start_consent,
)
from tests.fixtures.crm_oauth import (
    DEMO_OAUTH_CLIENTS,
    consent,
    crm_template_document,
    query_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def oauth_clients(settings):
    settings.OAUTH_CLIENTS = DEMO_OAUTH_CLIENTS


@pytest.fixture
def crm_template(db, integrator):
    integrator.control.seed_crm()
    template, _ = template_load(document=crm_template_document(integrator))
    return template


def _tenant(template, external_id):
    tenant, _ = tenant_create(external_id=external_id, name=external_id.title(), template=template)
    return tenant


@pytest.fixture
def acme(crm_template):
    return _tenant(crm_template, "acme")


@pytest.fixture
def globex(crm_template):
    return _tenant(crm_template, "globex")


def _link(tenant) -> str:
    return connect_link_create(tenant=tenant).path


def _crm(tenant) -> TenantConnection | None:
    return TenantConnection.objects.filter(tenant=tenant, slot_key="crm").first()


def _not_connected(tenant) -> bool:
    row = _crm(tenant)
    return row is None or (row.connection_id == "" and row.status != ConnectionStatus.OK)


def test_the_form_offers_connect_with_the_app_and_says_what_access_is_asked(acme):
    page = Client().get(_link(acme)).content.decode()
    assert "Connect with CRM" in page
    assert "CRM will ask you to allow:</strong> read your contacts." in page
    # The ERP slot still has its typed fields.
    assert "ERP API key" in page


def test_consent_connects_the_slot_through_integrator_io(acme, integrator, caplog):
    caplog.set_level(logging.DEBUG)
    browser = Client()
    link = _link(acme)
    authorize = start_consent(browser, link)
    params = query_of(authorize)
    assert authorize.startswith(integrator.demo_url("crm") + "/oauth/authorize?")
    assert params["code_challenge_method"] == "S256" and params["scope"] == "contacts.read"
    assert params["redirect_uri"] == "http://testserver/connect/oauth/callback"

    back = consent(authorize)
    answer = browser.get(callback_path(back))
    assert answer.status_code == 200
    assert "CRM is connected" in answer.content.decode()
    row = _crm(acme)
    assert row.status == ConnectionStatus.OK and row.connection_id
    assert row.field_values == {}

    stored = integrator.control.objects("connections", reveal=True)["objects"]["connections"]
    remote = next(c for c in stored if c["_id"] == row.connection_id)
    auth = remote["http"]["auth"]
    assert auth["type"] == "oauth"
    assert auth["oauth"]["tokenURI"] == integrator.demo_url("crm") + "/oauth/token"
    secrets = [
        auth["token"]["token"],
        auth["token"]["refreshToken"],
        auth["oauth"]["clientSecret"],
        query_of(back)["code"],
    ]
    # Nothing of it in our database, in Redis, in the logs or in the page.
    _assert_nowhere(secrets, caplog.text + answer.content.decode())

    # A reconnect keeps the connection's id.
    again = connect_by_consent(browser, link)
    assert "CRM is connected" in again.content.decode()
    assert _crm(acme).connection_id == row.connection_id


def _assert_nowhere(secrets: list[str], text: str) -> None:
    for secret in secrets:
        assert secret not in text
    for model in apps.get_models():
        if not model._meta.managed:  # no table (core.AdminAction holds permissions only)
            continue
        for row in model.objects.all().values():
            dumped = repr(row)
            for secret in secrets:
                assert secret not in dumped, f"{secret[:8]}… in {model.__name__}"
    store = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in store.scan_iter(count=1000):
        if store.type(key) == b"string":
            value = store.get(key) or b""
            for secret in secrets:
                assert secret.encode() not in value


def test_denied_consent_says_so_and_saves_nothing(acme, integrator):
    before = integrator.control.counts()["connections"]
    answer = connect_by_consent(Client(), _link(acme), decision="deny")
    text = answer.content.decode()
    assert "You did not approve access in CRM, so nothing was saved" in text
    assert "Back to the form" in text
    assert _not_connected(acme)
    assert integrator.control.counts()["connections"] == before

    # The form shows the reason beside the button, which tries again.
    form = Client().get(_next_url(answer)).content.decode()
    assert "You did not approve access in CRM" in form and "Connect with CRM" in form


def test_an_error_sent_to_the_callback_cannot_forge_a_log_line(acme, integrator, caplog):
    # The callback's query string is anyone's to write (with a state of their own consent);
    # the app's `error` is logged, and a line break in it made a line of its own.
    caplog.set_level(logging.INFO)
    browser = Client()
    state = query_of(start_consent(browser, _link(acme)))["state"]

    browser.get(
        "/connect/oauth/callback",
        {"state": state, "error": "x\n2026-01-01 00:00:00 CRITICAL forged"},
    )

    answered = [r.getMessage() for r in caplog.records if "the app answered" in r.getMessage()]
    assert answered and "\n" not in answered[0]


def _next_url(answer) -> str:
    return answer.content.decode().split('data-next="')[1].split('"')[0].replace("&amp;", "&")


def test_the_deny_message_uses_the_consent_pages_word(acme, integrator):
    # The demo CRM's consent button says Approve; the message must not send people to look
    # for an "Allow" that is not there.
    page = requests.get(start_consent(Client(), _link(acme)), timeout=5).text
    assert ">Approve</button>" in page and ">Allow<" not in page

    message = html.unescape(oauth_outcomes.outcome_message("denied", app="CRM"))  # as shown

    assert "approve on CRM's page" in message and "Allow" not in message


def test_declining_a_reconnect_says_so_and_keeps_the_connection(acme, integrator):
    browser, link = Client(), _link(acme)
    connect_by_consent(browser, link)
    connection_id = _crm(acme).connection_id

    # Reconnect (?edit=crm), then Deny in the popup.
    answer = connect_by_consent(browser, link, decision="deny")

    assert "so your existing connection is unchanged" in answer.content.decode()
    form = browser.get(_next_url(answer)).content.decode()
    # The form the popup sends the person back to says so too, beside Reconnect.
    assert "You did not approve access in CRM, so your existing connection is unchanged." in form
    assert "Reconnect with CRM" in form and 'role="alert"' in form
    row = _crm(acme)
    assert row.status == ConnectionStatus.OK and row.connection_id == connection_id


def test_a_reconnect_started_on_the_integration_page_returns_there(acme, integrator):
    browser = Client()
    connect_by_consent(browser, _link(acme))
    portal = connect_link_create(tenant=acme, sections=["connections"]).path
    reconnect = html.unescape(
        re.search(r'href="([^"]+/oauth/crm/start[^"]+)"', browser.get(portal).content.decode())[1]
    )
    assert "back=portal" in reconnect and "mode=top" in reconnect

    def through_consent(decision):
        started = browser.get(reconnect)
        return browser.get(callback_path(consent(started["Location"], decision=decision)))

    approved = through_consent("approve")
    assert approved.status_code == 303
    assert approved["Location"] == f"{portal}?saved=crm#connections-outcome"
    assert "CRM is connected." in browser.get(approved["Location"]).content.decode()

    # Declined: the form says why; its Cancel goes back to the integration page.
    declined = through_consent("deny")
    form = browser.get(declined["Location"]).content.decode()
    assert "so your existing connection is unchanged" in form
    cancel = re.search(r'href="([^"]+)">Cancel</a>', form)[1].replace("&amp;", "&")
    assert cancel == f"{portal}?canceled=crm#connections-outcome"
    assert "Nothing was saved: CRM stays connected as it was." in (
        browser.get(cancel).content.decode()
    )


def test_a_replayed_or_tampered_state_fails_cleanly(acme, integrator):
    browser = Client()
    back = consent(start_consent(browser, _link(acme)))
    assert browser.get(callback_path(back)).status_code == 200
    connection_id = _crm(acme).connection_id

    # The same callback again (reloaded, or from the history): the sign-in was used, and it
    # connected CRM. "Nothing was saved" would tell the person that their app is not
    # connected when it is.
    for _ in range(2):
        replayed = browser.get(callback_path(back))
        assert replayed.status_code == 200
        page = html.unescape(replayed.content.decode())
        assert '<h1 id="message-title">CRM is connected</h1>' in page
        assert "This sign-in link was already used, and CRM is connected." in page
        assert "Nothing was saved" not in page and "took too long" not in page
        assert 'data-outcome="connected"' in page
        # No form to go back to: the consent may have run in the whole window (popups
        # blocked), which has left the form; the customer goes back to where they began.
        assert "You can go back to the page where you started." in page
        assert "go back to the form" not in page
    assert _crm(acme).connection_id == connection_id

    # Replayed once the connection stopped working: the page says what holds now.
    TenantConnection.objects.filter(pk=_crm(acme).pk).update(status=ConnectionStatus.FAILED)
    replayed = browser.get(callback_path(back))
    assert replayed.status_code == 400
    assert "took too long or was already used" in html.unescape(replayed.content.decode())
    assert "CRM is not connected" in replayed.content.decode()

    # A sign-in that did not connect, replayed: still not connected, and nothing saved.
    denied = consent(start_consent(browser, _link(acme)), decision="deny")
    browser.get(callback_path(denied))
    replayed = browser.get(callback_path(denied))
    assert replayed.status_code == 400
    assert "took too long or was already used" in html.unescape(replayed.content.decode())

    back = consent(start_consent(browser, _link(acme)))
    params = query_of(back)
    tampered = browser.get(
        f"/connect/oauth/callback?code={params['code']}&state={params['state']}x"
    )
    assert tampered.status_code == 400
    assert browser.get(f"/connect/oauth/callback?code={params['code']}").status_code == 400


def test_a_spent_or_late_state_is_answered_in_the_language_of_its_link(
    acme, integrator, monkeypatch
):
    # The host app made the link for a German customer whose browser asks for English. A
    # state that is spent (the back button after the consent, whole-window when popups are
    # blocked), or that ran out, or that Redis cannot look up names no link any more: the
    # state itself says which language its page spoke, so the answer does not fall back to
    # the browser's English.
    link = connect_link_create(tenant=acme, locale="de").path
    browser = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    back = consent(start_consent(browser, link))
    assert "CRM ist verbunden" in browser.get(callback_path(back)).content.decode()

    replayed = browser.get(callback_path(back))
    assert replayed.status_code == 200
    assert replayed["Content-Language"] == "de"
    page = replayed.content.decode()
    assert '<html lang="de">' in page
    assert "Dieser Anmeldelink wurde bereits verwendet, und CRM ist verbunden." in page

    late = consent(start_consent(browser, link))
    store = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in store.scan_iter(match="*connect:oauth-state:*"):
        store.delete(key)  # ran out: Redis forgot it
    replayed = browser.get(callback_path(late))
    assert replayed.status_code == 400
    assert replayed["Content-Language"] == "de"
    assert "Diese Anmeldung hat zu lange gedauert oder wurde bereits verwendet." in (
        replayed.content.decode()
    )

    def unavailable(state):
        raise OAuthStateUnavailable("ConnectionError")

    back = consent(start_consent(browser, link))
    monkeypatch.setattr(oauth_views, "oauth_state_take", unavailable)
    down = browser.get(callback_path(back))
    assert down.status_code == 503
    assert down["Content-Language"] == "de"

    # Only a language the service speaks: anything else is the browser's, as before.
    def language_of(state):
        answer = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/connect/oauth/callback?state={state}")
        return answer["Content-Language"]

    assert language_of("never-issued") == "en"
    assert language_of("never-issued.fr") == "en"
    assert language_of("never-issued.de%27%3E") == "en"


def test_a_consent_started_in_another_browser_is_refused(acme, integrator):
    back = consent(start_consent(Client(), _link(acme)))
    answer = Client().get(callback_path(back))
    assert answer.status_code == 400
    assert "started in another browser" in answer.content.decode()
    assert _not_connected(acme)


def test_a_callback_from_another_browser_never_hands_over_the_link(acme, integrator):
    # Whoever opens the callback without the browser's cookie holds only a state (which the
    # app's consent page, its logs and the browser's history have seen), or is the victim of
    # a consent an attacker started: neither may be sent to the link's form, whose address
    # is the link itself (enter credentials, change settings).
    link = _link(acme)
    for mode in ("popup", "top"):
        browser = Client()
        start = connect_start_url(browser, link)
        if mode == "top":
            start += "&mode=top"
        back = consent(browser.get(start)["Location"])
        answer = Client().get(callback_path(back))
        assert answer.status_code == 400, mode
        assert "Location" not in answer, mode
        page = answer.content.decode()
        assert link.strip("/").split("/")[-1] not in page, mode
        assert "started in another browser" in page, mode
        assert "Go back to the page where you started" in page, mode
    assert _not_connected(acme)


def test_codes_and_states_of_two_tenants_do_not_mix(acme, globex, integrator):
    browser = Client()
    acme_back = query_of(consent(start_consent(browser, _link(acme))))
    globex_back = query_of(consent(start_consent(browser, _link(globex))))
    # Acme's code with globex's state: the code is bound to acme's PKCE verifier.
    mixed = browser.get(
        f"/connect/oauth/callback?code={acme_back['code']}&state={globex_back['state']}"
    )
    assert "did not confirm the sign-in" in mixed.content.decode()
    assert _not_connected(acme) and _not_connected(globex)
    # Acme's state is still unused, but the provider burnt the code on the failed exchange
    # (a code works once): acme's own callback fails cleanly too, and acme can try again.
    late = browser.get(
        f"/connect/oauth/callback?code={acme_back['code']}&state={acme_back['state']}"
    )
    assert "did not confirm the sign-in" in late.content.decode()
    assert _not_connected(acme) and _not_connected(globex)
    assert "CRM is connected" in connect_by_consent(browser, _link(acme)).content.decode()
    assert _not_connected(globex)


def test_a_replayed_code_fails_cleanly(acme, integrator):
    browser = Client()
    back = query_of(consent(start_consent(browser, _link(acme))))
    first = browser.get(f"/connect/oauth/callback?code={back['code']}&state={back['state']}")
    assert "CRM is connected" in first.content.decode()
    fresh = query_of(consent(start_consent(browser, _link(acme))))
    replay = browser.get(f"/connect/oauth/callback?code={back['code']}&state={fresh['state']}")
    assert "did not confirm the sign-in" in replay.content.decode()


def test_consents_started_from_one_link_are_rate_limited(acme, integrator, settings):
    # Each start keeps a state in Redis for minutes: unbounded, reloading the start URL of one
    # link filled Redis with states (and the browser with cookies).
    settings.CONNECT_SUBMISSIONS_PER_MINUTE = 2
    browser = Client()
    path = _link(acme)
    start = connect_start_url(browser, path)
    assert browser.get(start).status_code == 302
    assert browser.get(start).status_code == 302

    refused = browser.get(start)

    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Location" not in refused and not refused.cookies
    assert "Too many sign-ins were started from this page" in refused.content.decode()
    # The form says so too, when the popup tells it the outcome.
    form = browser.get(f"{path}?oauth=too_many&slot=crm").content.decode()
    assert "Too many sign-ins were started from this page" in form
    # Another link of the tenant counts on its own.
    assert browser.get(connect_start_url(browser, _link(acme))).status_code == 302


def test_the_callback_and_the_start_never_redirect_elsewhere(acme, integrator):
    browser = Client()
    evil = "https://evil.example/steal"
    for query in (f"next={evil}", f"redirect_uri={evil}", f"state=x&return_url={evil}"):
        answer = browser.get(f"/connect/oauth/callback?{query}")
        assert answer.status_code == 400 and "Location" not in answer
        assert evil not in answer.content.decode()
    start = connect_start_url(browser, _link(acme)) + f"&redirect_uri={evil}&mode=top"
    location = browser.get(start)["Location"]
    assert query_of(location)["redirect_uri"] == "http://testserver/connect/oauth/callback"
    # In the top window the callback sends the user back to our own form, by path.
    back = browser.get(callback_path(consent(location)))
    assert back.status_code == 303 and back["Location"].startswith("/connect/")


def test_the_start_needs_the_forms_token_and_an_oauth_slot(acme, integrator):
    link = _link(acme)
    browser = Client()
    url = connect_start_url(browser, link)
    assert browser.get(url.split("?")[0]).status_code == 403
    assert browser.get(url.replace("/oauth/crm/", "/oauth/erp/")).status_code == 403


def test_the_tenant_provisions_once_both_slots_work(acme, integrator, settings):
    browser = Client()
    link = _link(acme)
    assert "CRM is connected" in connect_by_consent(browser, link).content.decode()
    acme.refresh_from_db()
    assert acme.status == TenantStatus.AWAITING_CREDENTIALS


@pytest.fixture
def broken_ping_tenant(db, integrator):
    """A tenant of a CRM template whose connection check pings a path the CRM does not have:
    every consent's tokens fail it."""
    integrator.control.seed_crm()
    document = crm_template_document(integrator)
    document["key"] = "crm-broken-ping"
    document["slots"][0]["connection"]["http"]["ping"]["relativeURI"] = "/no-such-path"
    template, _ = template_load(document=document)
    return _tenant(template, "acme")


def test_tokens_whose_ping_fails_save_nothing_and_make_nothing(broken_ping_tenant, integrator):
    tenant = broken_ping_tenant
    before = integrator.control.counts()["connections"]
    answer = connect_by_consent(Client(), _link(tenant))
    assert "the connection did not work when we checked it" in answer.content.decode()
    assert _not_connected(tenant)
    assert integrator.control.counts()["connections"] == before


def test_a_consent_whose_check_failed_is_said_once_with_the_apps_details(broken_ping_tenant):
    """The form the popup reloads after a failed check showed two alerts for one failure:
    the slot's "The last check failed." notice and the consent's "There is a problem"."""
    tenant = broken_ping_tenant
    browser = Client()
    link = _link(tenant)
    connect_by_consent(browser, link)

    page = browser.get(f"{link}?oauth=not_working&slot=crm").content.decode()

    assert page.count("did not work when we checked it") == 1
    assert "The last check failed." not in page
    assert _crm(tenant).last_ping_error  # what the check said, kept for the page
    assert "Details from CRM:" in page


def test_a_denied_reconnect_does_not_show_an_earlier_checks_details_as_its_own(acme):
    """A connection the periodic check found broken (the app's access removed), then a
    reconnect the customer denied: the denial's alert said "Details from CRM: Refreshing the
    OAuth 2 access token failed", the earlier check's words, as if the denial had caused
    them. Only a consent whose own check failed brings the app's details."""
    TenantConnection.objects.update_or_create(
        tenant=acme,
        slot_key="crm",
        defaults={
            "connection_id": "c-crm",
            "status": ConnectionStatus.FAILED,
            "last_ping_error": "Refreshing the OAuth 2 access token failed: 400 invalid_grant",
        },
    )
    link = _link(acme)

    for outcome in ("denied", "provider_error", "expired", "exchange_failed"):
        page = Client().get(f"{link}?oauth={outcome}&slot=crm").content.decode()

        assert "There is a problem" in page, outcome
        assert "Refreshing the OAuth 2 access token failed" not in page, outcome
        assert "Details from" not in page, outcome

    page = Client().get(f"{link}?oauth=not_working&slot=crm").content.decode()
    assert "Details from" in page


def test_integrator_io_limiting_calls_during_the_callback_is_try_again_not_not_working(
    acme, integrator, settings
):
    # The app signed the customer in; integrator.io then answered 429 while we made and
    # checked the connection. The tokens are fine: "try again in a minute", as for a 503,
    # not "the connection did not work when we checked it".
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}{acme.uid}:"  # a pause of its own
    browser = Client()
    back = consent(start_consent(browser, _link(acme)))
    integrator.control.inject_fault("rate_limit", path="/v1/*", retry_after=30)

    answer = browser.get(callback_path(back)).content.decode()

    assert "please try again in a minute" in answer
    assert "did not work when we checked it" not in answer
    assert _not_connected(acme)


def test_a_client_secret_the_app_refuses_says_contact_support_and_is_logged_as_an_error(
    acme, integrator, settings, caplog
):
    # The secret was rotated at the app but not here (or mistyped in the admin): the app
    # answers the code exchange `invalid_client`. Trying again cannot help, so the customer
    # is told to contact support (not "please try again"), and ops get an error, not an info.
    settings.OAUTH_CLIENTS = {
        "crm": {**DEMO_OAUTH_CLIENTS["crm"], "client_secret": "rotated-away-at-the-app"}
    }
    caplog.set_level(logging.INFO)
    before = integrator.control.counts()["connections"]

    answer = connect_by_consent(Client(), _link(acme))

    text = answer.content.decode()
    assert "Connecting to CRM is not available at the moment. Please contact support." in text
    assert "did not confirm the sign-in" not in text
    assert _not_connected(acme)
    assert integrator.control.counts()["connections"] == before
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("invalid_client" in message for message in errors), errors
    assert not any("rotated-away-at-the-app" in r.getMessage() for r in caplog.records)


class _TenantOfEachLine(logging.Handler):
    """The tenant each line of the OAuth views names (core.log_context), as written."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.lines: list[tuple[str, str | None]] = []

    def emit(self, record):
        self.lines.append((record.getMessage(), log_context.tenant_id.get()))


def test_the_callbacks_lines_name_the_tenant(acme, integrator):
    # The callback is the one request of a consent that names no tenant in its URL: its lines
    # (denied, refused, connected) said tenant=-, and an operator looking for a customer's
    # failed consent by tenant found only its start.
    handler = _TenantOfEachLine()
    views_log = logging.getLogger("connect.oauth_views")
    views_log.addHandler(handler)
    level = views_log.level
    views_log.setLevel(logging.INFO)
    try:
        connect_by_consent(Client(), _link(acme), decision="deny")
        connect_by_consent(Client(), _link(acme))
    finally:
        views_log.removeHandler(handler)
        views_log.setLevel(level)
    # Each start's line names it already; the callback's are the others.
    callback_lines = [(line, tenant) for line, tenant in handler.lines if "started" not in line]
    assert len(callback_lines) == 2, handler.lines
    assert all(tenant == "acme" for _, tenant in callback_lines), callback_lines


@pytest.mark.parametrize("connected", [False, True])
def test_a_consent_from_the_integration_page_that_cannot_say_where_to_go_is_explained_there(
    acme, integrator, connected
):
    # An expired or reused sign-in (and a start refused: too many, unavailable) ends on a page
    # that cannot name the way back, the state being gone: oauth_popup.js then reloads the
    # page that opened the popup with `?oauth=<outcome>&slot=<key>`. The form says why; the
    # integration page showed itself unchanged, as if nothing had happened.
    browser = Client()
    if connected:
        connect_by_consent(browser, _link(acme))
    portal = connect_link_create(tenant=acme, sections=["connections"]).path
    ended = browser.get("/connect/oauth/callback", {"state": "gone", "code": "x"})
    assert 'data-next=""' in ended.content.decode()

    page = browser.get(portal, {"oauth": "expired", "slot": "crm"}).content.decode()

    assert "This sign-in took too long or was already used. Nothing was saved" in page
    assert ("Your existing connection to CRM is unchanged." in page) is connected
    # Only an outcome's own sentence: anything else in the URL shows nothing.
    forged = browser.get(portal, {"oauth": "<b>pay here</b>", "slot": "crm"}).content.decode()
    assert "pay here" not in forged and 'role="alert"' not in forged


@pytest.mark.parametrize("error", ["unauthorized_client", "invalid_scope"])
def test_an_app_refusing_our_client_or_scopes_at_consent_says_contact_support(
    acme, integrator, caplog, error
):
    # RFC 6749 section 4.1.2.1: the app sends these back when the deployment's client may not
    # use the code flow, or the template asks for a scope the app does not know. Another try
    # meets the same refusal, so "please try again" never helped; and ops saw only an info.
    caplog.set_level(logging.INFO)
    browser = Client()
    state = query_of(start_consent(browser, _link(acme)))["state"]

    answer = browser.get("/connect/oauth/callback", {"state": state, "error": error})

    assert "Please contact support." in answer.content.decode()
    assert _not_connected(acme)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(error in message for message in errors), errors


MIXED_LEADS = {
    "en": "For some apps below, enter their credentials; for the others, click “Connect with …”",
    "de": "Geben Sie für einige Apps unten die Zugangsdaten ein; für die anderen klicken Sie auf",
}
OAUTH_LEADS = {
    "en": "Connect each app below by approving access on its own page.",
    "de": "Verbinden Sie jede App unten, indem Sie den Zugriff auf ihrer eigenen Seite erteilen.",
}


def _lead(page: str) -> str:
    return html.unescape(page.split('<p class="lead">', 1)[1].split("</p>", 1)[0]).strip()


@pytest.mark.parametrize("locale", ["en", "de"])
def test_the_lead_of_a_form_with_typed_and_oauth_apps_speaks_of_both(acme, locale):
    # CRM connects by consent, ERP by typed credentials: "enter the credentials for each app"
    # sent the person looking for CRM fields that do not exist.
    page = Client().get(connect_link_create(tenant=acme, locale=locale).path).content.decode()

    assert _lead(page).startswith(MIXED_LEADS[locale])
    assert "Enter the credentials for each app" not in page
    assert "Geben Sie unten die Zugangsdaten für jede App ein" not in page


@pytest.mark.parametrize("locale", ["en", "de"])
def test_the_lead_of_a_form_with_oauth_apps_only_asks_for_no_credentials(integrator, locale):
    document = crm_template_document(integrator)
    crm, erp = document["slots"]
    erp.update(
        kind="oauth",
        fields=[],
        oauth=crm["oauth"],
        connection={
            "http": {**erp["connection"]["http"], "auth": crm["connection"]["http"]["auth"]}
        },
    )
    document["key"] = "two-crms"
    template, _ = template_load(document=document)
    tenant = _tenant(template, "initech")

    page = Client().get(connect_link_create(tenant=tenant, locale=locale).path).content.decode()

    assert _lead(page).startswith(OAUTH_LEADS[locale])


@pytest.mark.parametrize(
    ("locale", "said", "wrong"),
    [
        ("en", "The connection worked when we checked it, and it is saved.", "credentials"),
        ("de", "Die Verbindung hat bei unserer Prüfung funktioniert", "Zugangsdaten"),
    ],
)
def test_an_app_connected_by_consent_is_not_said_to_have_had_credentials(
    acme, integrator, locale, said, wrong
):
    # The person approved access at CRM and typed nothing: "the credentials worked" spoke of
    # something they never gave.
    link = connect_link_create(tenant=acme, locale=locale).path
    portal = connect_link_create(tenant=acme, locale=locale, sections=["connections"]).path
    connect_by_consent(Client(), link)

    for path in (f"{link}?saved=crm", f"{portal}?saved=crm"):
        page = html.unescape(Client().get(path).content.decode())
        notice = page.split('class="notice notice-success"', 1)[1].split("</div>", 1)[0]
        assert said in notice
        assert wrong not in notice


def test_the_intro_names_reconnect_when_a_connected_app_stopped_working(acme, integrator):
    """An app connected before that stopped working offers "Reconnect with CRM": the intro
    must not send the person looking for a "Connect with …" button that is not there."""
    browser, link = Client(), _link(acme)
    connect_by_consent(browser, link)
    TenantConnection.objects.filter(tenant=acme, slot_key="crm").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 token revoked"
    )

    page = html.unescape(browser.get(link).content.decode())

    assert "Reconnect with CRM" in page and ">Connect with CRM<" not in page
    assert "“Reconnect with …”" in page and "“Connect with …”" not in page

    german = html.unescape(browser.get(link, HTTP_ACCEPT_LANGUAGE="de").content.decode())
    assert "Neu mit CRM verbinden" in german
    assert "„Neu mit … verbinden“" in german and "„Mit … verbinden“" not in german

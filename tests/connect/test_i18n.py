"""The end customer's pages in their language: chosen by the link's locale, else the browser's
Accept-Language, else English; never through a cookie. Dates follow the language too."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.test import RequestFactory
from django.utils import timezone, translation

from connect.language import browser_language, link_language_activate, supported_language
from connect.unavailable_page import unavailable_page
from provisioning.models import JobStatus
from tenants.connect_links import connect_link_token
from tenants.models import ConnectionStatus, ConnectLink, TenantConnection, TenantStatus
from tests.connect.pages import forms_by_slot
from tests.connect.test_status_page import make_job, set_status

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}


def _german(response) -> str:
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert response["Content-Language"] == "de"
    return html


def test_the_form_speaks_german_to_a_german_browser(acme, issue_link, client):
    response = client.get(issue_link(acme).path, **GERMAN)

    html = _german(response)
    assert "<h1>Verbinden Sie Ihre Apps</h1>" in html
    assert "Geben Sie unten die Zugangsdaten für jede App ein." in html
    # The template translates nothing: its slot labels are marked English in the sentence.
    assert '<span lang="en">Shop</span> verbinden</span>' in html
    assert '<span lang="en">ERP</span> verbinden</span>' in html
    assert "0 von 2 verbunden" in html
    assert 'data-text-show="Anzeigen"' in html
    assert "Connect your apps" not in html
    # The same address answers in another language for another browser: caches must know.
    assert "Accept-Language" in response["Vary"]


def test_the_form_sets_no_cookie_in_any_language(acme, issue_link, client):
    response = client.get(issue_link(acme).path, **GERMAN)

    assert response.status_code == 200
    assert not response.cookies and not client.cookies
    assert "Set-Cookie" not in response.headers


def test_the_language_is_not_kept_between_requests(acme, issue_link, client):
    path = issue_link(acme).path
    client.get(path, **GERMAN)

    # No cookie, no session: the next request without the header is English again.
    assert '<html lang="en">' in client.get(path).content.decode()
    # Nor does the language stay active in the thread that served the page.
    assert translation.get_language() in ("en", "en-us")


def test_an_unknown_language_falls_back_to_english(acme, issue_link, client):
    response = client.get(issue_link(acme).path, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    html = response.content.decode()
    assert '<html lang="en">' in html and "<h1>Connect your apps</h1>" in html
    assert response["Content-Language"] == "en"


def test_the_browsers_preference_order_is_followed(acme, issue_link, client):
    path = issue_link(acme).path

    assert 'lang="de"' in client.get(path, HTTP_ACCEPT_LANGUAGE="fr;q=1, de;q=0.8").content.decode()
    assert 'lang="en"' in client.get(path, HTTP_ACCEPT_LANGUAGE="en;q=1, de;q=0.8").content.decode()
    assert 'lang="de"' in client.get(path, HTTP_ACCEPT_LANGUAGE="de-AT").content.decode()


def test_field_errors_are_german(acme, issue_link, client, pages):
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path, **GERMAN).content.decode())["shop"]

    response = client.post(form.action, form.data(store_url="not a url", api_key=""), **GERMAN)

    html = _german(response)
    assert "<title>Fehler: Verbinden Sie Ihre Apps · Northwind</title>" in html
    assert "Es gibt ein Problem" in html
    # Django's own messages, in our catalogue's formal words (connect/django_texts.py), not
    # the informal ones of an installed app's catalogue ("Gib eine gültige URL ein.").
    assert "Bitte füllen Sie dieses Feld aus." in html
    assert "Geben Sie eine gültige URL ein." in html
    assert "Gib " not in html


def test_bounds_are_explained_in_german(acme, issue_link, client):
    form = forms_by_slot(client.get(issue_link(acme).path, **GERMAN).content.decode())["erp"]

    response = client.post(form.action, form.data(api_key="k", concurrency="9"), **GERMAN)

    assert "Der Wert darf höchstens 5 sein." in _german(response)


def test_a_remote_refusal_is_explained_in_german(acme, issue_link, client):
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 Unauthorized: bad key"
    )

    html = _german(client.get(issue_link(acme).path, **GERMAN))

    assert "Die letzte Prüfung ist fehlgeschlagen." in html
    # The template's label, untranslated, is English inside the German sentence.
    assert '<span lang="en">Shop</span> hat diese Zugangsdaten nicht angenommen.' in html
    assert (
        'Details von <span lang="en">Shop</span>: <span lang="en">401 Unauthorized: bad key</span>'
        in html
    )


def test_an_unreached_apps_detail_is_labelled_technical_in_german(acme, issue_link, client):
    # Shop never answered: the detail is not "Details von Shop".
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="connect ECONNREFUSED 127.0.0.1:1"
    )

    html = _german(client.get(issue_link(acme).path, **GERMAN))

    assert 'Technische Details: <span lang="en">connect ECONNREFUSED 127.0.0.1:1</span>' in html
    assert "Details von" not in html


def test_an_apps_own_words_are_marked_english_on_a_german_page(acme, issue_link, client):
    # The app's (or integrator.io's) text is English whatever the page's language: without its
    # own lang, a screen reader reads "401 Unauthorized: bad key" with German pronunciation.
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 Unauthorized: bad key"
    )

    html = _german(client.get(issue_link(acme).path, **GERMAN))

    details = re.findall(r'<p class="notice-detail">(.*?)</p>', html, re.S)
    assert details
    for detail in details:
        # "Shop" too: the template (these tests') translates nothing.
        assert detail.startswith('Details von <span lang="en">Shop</span>: ')
        assert detail.endswith('<span lang="en">401 Unauthorized: bad key</span>')


def test_when_a_slot_was_checked_follows_the_language(acme, issue_link, client):
    checked = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=checked
    )
    path = issue_link(acme).path

    german = client.get(path, **GERMAN).content.decode()
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'title="5. März 2026 14:30 UTC"' in german
    # Django's humanize: "8 Monate, 3 Wochen her" (the grammar of each language is its own).
    assert re.search(r"Zuletzt geprüft: <time [^>]*>\d+\xa0Monate?[^<]* her</time>", german)
    assert 'title="March 5, 2026, 2:30 p.m. UTC"' in english
    assert re.search(r"Checked <time [^>]*>\d+\xa0months?[^<]* ago</time>", english)


def test_a_check_a_moment_ago_is_just_now_in_german(acme, issue_link, client):
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.OK, connection_id="c" * 24, last_ping_at=timezone.now()
    )

    html = client.get(issue_link(acme).path, **GERMAN).content.decode()

    assert re.search(r"Zuletzt geprüft: <time [^>]*>gerade eben</time>", html)


def test_the_status_page_and_its_json_speak_german(acme, issue_link, client):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, status=JobStatus.RUNNING, done=1)
    path = issue_link(acme).path

    html = _german(client.get(path + "status/", **GERMAN))
    body = client.get(path + "status.json", **GERMAN).json()

    assert "Ihre Integration wird eingerichtet" in html
    assert 'aria-label="Schritte der Einrichtung"' in html
    assert "Verbindungen prüfen" in html and "Erledigt" in html and "Läuft" in html
    assert body["title"] == "Ihre Integration wird eingerichtet"
    assert [s["status_label"] for s in body["steps"][:3]] == ["Erledigt", "Läuft", "Wartet"]


def test_a_failed_setup_names_the_step_in_german(acme, issue_link, client):
    set_status(acme, TenantStatus.FAILED, "clone failed")
    make_job(acme, status=JobStatus.FAILED, done=1, running=False, error="boom")

    body = client.get(issue_link(acme).path + "status.json", **GERMAN).json()

    assert body["title"] == "Wir konnten die Einrichtung nicht abschließen"
    assert body["detail"].startswith("Die Einrichtung Ihrer Integration wurde bei „")


def test_pages_without_a_tenant_follow_the_browser(db, client):
    response = client.get("/connect/not-a-real-token/", **GERMAN)

    assert response.status_code == 404
    assert "Dieser Link funktioniert nicht" in _german(response)


def test_the_admin_and_the_api_stay_english(db, client):
    response = client.get("/api/v1/tenants", **GERMAN)

    assert "Content-Language" not in response.headers
    assert translation.get_language() in ("en", "en-us")


def test_the_links_locale_is_applied_when_it_names_a_supported_language():
    request = RequestFactory().get("/connect/x/")
    with translation.override("en"):
        link_language_activate(request, SimpleNamespace(locale="de-CH"))
        assert translation.get_language() == "de" and request.LANGUAGE_CODE == "de"
    with translation.override("en"):
        link_language_activate(request, SimpleNamespace(locale="xx"))
        assert translation.get_language() == "en"
        # A link made before links had a locale keeps the browser's choice.
        link_language_activate(request, SimpleNamespace())
        assert translation.get_language() == "en"


def test_choosing_a_language():
    factory = RequestFactory()

    assert supported_language("de-DE") == "de" and supported_language("fr") == ""
    assert browser_language(factory.get("/", HTTP_ACCEPT_LANGUAGE="*, de;q=0.5")) == "en"
    assert browser_language(factory.get("/", HTTP_ACCEPT_LANGUAGE="garbage;;q=x")) == "en"
    assert browser_language(factory.get("/")) == "en"


def test_a_language_the_browser_refuses_is_not_chosen():
    # q=0 says "not acceptable" (RFC 9110, 12.4.2): a browser told never to show German gets
    # English, not the German it refused.
    factory = RequestFactory()

    assert browser_language(factory.get("/", HTTP_ACCEPT_LANGUAGE="de;q=0")) == "en"
    assert browser_language(factory.get("/", HTTP_ACCEPT_LANGUAGE="fr, de;q=0.0")) == "en"
    assert browser_language(factory.get("/", HTTP_ACCEPT_LANGUAGE="de-AT;q=0, de;q=0.3")) == "de"


def test_a_link_made_for_german_wins_over_the_browser(acme, issue_link, client):
    link = issue_link(acme)
    ConnectLink.objects.filter(pk=link.link.pk).update(locale="de")

    form = client.get(link.path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    status = client.get(link.path + "status/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert "<h1>Verbinden Sie Ihre Apps</h1>" in _german(form)
    assert "Ihre Zugangsdaten fehlen noch" in _german(status)
    assert not form.cookies and not status.cookies


def test_a_link_made_for_an_unsupported_language_follows_the_browser(acme, issue_link, client):
    link = issue_link(acme)
    ConnectLink.objects.filter(pk=link.link.pk).update(locale="fr")

    assert "<h1>Verbinden Sie Ihre Apps</h1>" in _german(client.get(link.path, **GERMAN))


def test_the_oauth_result_page_follows_the_browser(db, client):
    response = client.get("/connect/oauth/callback?state=never-issued&code=x", **GERMAN)

    assert response.status_code == 400
    html = _german(response)
    assert '<h1 id="message-title">Nicht verbunden</h1>' in html
    assert "Diese Anmeldung hat zu lange gedauert oder wurde bereits verwendet." in html


def test_the_unavailable_page_is_translated():
    request = RequestFactory().get("/connect/x/")
    with translation.override("de"):
        html = unavailable_page(request).content.decode()

    assert '<html lang="de">' in html
    assert "Diese Seite ist vorübergehend nicht verfügbar" in html


def _german_link(acme, issue_link):
    issued = issue_link(acme)
    ConnectLink.objects.filter(pk=issued.link.pk).update(locale="de")
    return issued


def test_a_german_link_that_expired_says_so_in_german(acme, issue_link, client):
    expired, revoked = _german_link(acme, issue_link), _german_link(acme, issue_link)
    ConnectLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now())
    ConnectLink.objects.filter(pk=revoked.link.pk).update(revoked_at=timezone.now())

    english = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
    response = client.get(expired.path, **english)
    assert response.status_code == 410
    # The link's language, as on its live pages, not the browser's English.
    assert '<h1 id="message-title">Dieser Link ist abgelaufen</h1>' in _german(response)
    for path in (revoked.path, revoked.path + "status/"):
        response = client.get(path, **english)
        assert response.status_code == 410
        html = _german(response)
        assert '<h1 id="message-title">Dieser Link ist nicht mehr gültig</h1>' in html
        assert "<title>Link nicht mehr gültig" in html
    body = client.get(revoked.path + "status.json", **english).json()
    assert body["error"]["title"] == "Dieser Link ist nicht mehr gültig"


def test_a_german_link_older_than_any_link_lives_says_so_in_german(acme, issue_link, client):
    issued = _german_link(acme, issue_link)
    long_ago = timezone.now() - timedelta(days=30)
    ConnectLink.objects.filter(pk=issued.link.pk).update(created_at=long_ago, expires_at=long_ago)
    # Signed at its creation (tenants.connect_links): its signature itself has run out.
    token = connect_link_token(ConnectLink.objects.get(pk=issued.link.pk))

    response = client.get(f"/connect/{token}/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.status_code == 410
    assert "Dieser Link ist abgelaufen" in _german(response)


def test_an_expired_link_without_a_language_follows_the_browser(acme, issue_link, client):
    issued = issue_link(acme)
    ConnectLink.objects.filter(pk=issued.link.pk).update(expires_at=timezone.now())

    english = client.get(issued.path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    german = client.get(issued.path, **GERMAN)

    assert "This link has expired" in english.content.decode()
    assert "Dieser Link ist abgelaufen" in _german(german)


def test_the_status_page_names_the_reconcile_step_in_plain_words(acme, issue_link, client):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, status=JobStatus.RUNNING, done=5)
    path = issue_link(acme).path + "status/"

    english = client.get(path).content.decode()
    german = _german(client.get(path, **GERMAN))

    assert "Apply the latest version of the integration" in english
    assert "Neueste Version der Integration übernehmen" in german
    assert "design" not in english and "neuesten Stand" not in german

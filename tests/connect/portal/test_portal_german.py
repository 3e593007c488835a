"""The integration page and a run's page in German: chosen by the link's `locale` or by the
browser's Accept-Language, with German dates and German digit grouping."""

import re
from datetime import UTC, datetime

import pytest

from runs.models import FlowRun, RunStatus
from tenants.models import IntegrationTemplate
from tests.connect.portal.conftest import add_runs

GERMAN_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
WHEN = datetime(2026, 11, 29, 20, 14, tzinfo=UTC)


@pytest.fixture
def big_run(acme):
    # A run at a known minute, with a count that needs a thousands separator.
    return FlowRun.objects.create(
        tenant=acme,
        job_id="flow-customers-job-big",
        flow_id="flow-customers",
        status=RunStatus.COMPLETED,
        created_at=WHEN,
        started_at=WHEN,
        ended_at=WHEN,
        duration_ms=1000,
        num_success=1234,
        num_error=0,
        synced_at=WHEN,
    )


def _german(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert response["Content-Language"] == "de"
    return html


@pytest.mark.parametrize(
    ("locale", "browser"), [("de", ENGLISH_BROWSER), ("", GERMAN_BROWSER)], ids=["link", "browser"]
)
def test_the_page_speaks_german(acme, big_run, portal_link, client, locale, browser):
    html = _german(client.get(portal_link(acme, locale=locale).path, **browser))

    for title in ("Verbindungen", "Einstellungen", "Datenflüsse", "Ausführungen und Fehler"):
        assert f">{title}</h2>" in html
    assert "<h1>Ihre Integration</h1>" in html
    assert html.count("Zuletzt geprüft:") == 2 and "Nächste Ausführung" in html
    assert "Einstellungen speichern" in html and "Ausschalten" in html
    assert "20 Datensätze synchronisiert" in html and "4 Sekunden" in html
    # German dates, with their time zone, and digit grouping, not the English "Nov. 29, 2026,
    # 8:14 p.m." and "1,234".
    assert "29. November 2026 20:14 UTC" in html and "1.234 Datensätze synchronisiert" in html
    assert "records synced" not in html and "Last checked" not in html


@pytest.mark.parametrize(
    ("locale", "browser"), [("de", ENGLISH_BROWSER), ("", GERMAN_BROWSER)], ids=["link", "browser"]
)
def test_a_run_speaks_german(acme, big_run, portal_link, client, locale, browser):
    path = portal_link(acme, locale=locale).path
    html = _german(client.get(f"{path}runs/{big_run.job_id}/", **browser))

    assert "<h1>Ausführung vom 29. November 2026 20:14 UTC</h1>" in html
    assert "<dt>Synchronisierte Datensätze</dt><dd>1.234</dd>" in html
    assert "1 Sekunde" in html and "Diese Ausführung hatte keine Fehler." in html
    assert "Zurück zu Ihrer Integration" in html


def test_an_english_browser_gets_english_dates_and_grouping(acme, big_run, portal_link, client):
    html = client.get(portal_link(acme).path, **ENGLISH_BROWSER).content.decode()

    assert '<html lang="en">' in html
    assert "1,234 records synced" in html and "Nov. 29, 2026" in html


def test_a_missing_run_speaks_german(acme, portal_link, client):
    path = portal_link(acme, locale="de").path
    response = client.get(f"{path}runs/no-such-job/")

    assert response.status_code == 404
    assert "Wir finden diese Ausführung nicht" in response.content.decode()


def test_errors_dealt_with_are_said_so_in_german(acme, portal_link, client):
    [done, partly] = add_runs(acme, "flow-customers", 2, errors=3)
    FlowRun.objects.filter(pk=done.pk).update(num_resolved=3)
    FlowRun.objects.filter(pk=partly.pk).update(num_resolved=1)

    html = _german(client.get(portal_link(acme, locale="de").path, **ENGLISH_BROWSER))

    assert "3 Fehler, alle erledigt" in html and "2 von 3 Fehlern offen" in html


def test_a_credential_an_app_repeats_in_a_run_error_is_not_shown(
    acme, portal_link, client, monkeypatch
):
    # A target app's answer may repeat what it was sent ("401: Authorization: Bearer ..."),
    # and integrator.io passes it on as the error's message. The credential form masks what
    # looks like a credential in an app's words; the run's page showed it as it came.
    from django.utils import timezone

    from runs.models import FlowRunError

    [run] = add_runs(acme, "flow-customers", 1, errors=1)
    leaked = "sk-live-4f9a8b7c6d5e4f3a2b1c"
    error = FlowRunError.objects.create(
        run=run,
        error_id="e1",
        code="401",
        message=f"401 Unauthorized: token rejected (Authorization: Bearer {leaked})",
        synced_at=timezone.now(),
    )
    monkeypatch.setattr(
        "connect.portal_selectors.actions.run_errors_fetch", lambda **kwargs: [error]
    )
    path = portal_link(acme, locale="de").path

    html = _german(client.get(f"{path}runs/{run.job_id}/"))

    assert "401 Unauthorized: token rejected" in html
    assert leaked not in html
    assert "[REDACTED]" in html
    # Shown masked, kept as integrator.io said it (the host's API and ops see the mirror).
    error.refresh_from_db()
    assert leaked in error.message


def test_the_templates_english_texts_are_marked_english_on_the_german_page(
    acme, portal_link, client
):
    # The demo template says everything in German too: nothing of it is marked English.
    link = portal_link(acme, locale="de")
    assert 'lang="en"' not in _german(client.get(link.path, **GERMAN_BROWSER))

    # A template that translates nothing: its slot labels, settings, options and flow names
    # are English on a German page, and say so to a screen reader.
    IntegrationTemplate.objects.filter(pk=acme.template_id).update(translations={})
    html = _german(client.get(link.path, **GERMAN_BROWSER))

    assert '<p class="eyebrow"><span lang="en">Shop to ERP order sync</span></p>' in html
    assert '<h3 class="row-title"><span lang="en">Online shop</span></h3>' in html
    assert '<span class="visually-hidden"> <span lang="en">Online shop</span></span>' in html
    assert '<span lang="en">Sync interval (minutes)</span></label>' in html
    assert '<legend><span lang="en">Order statuses to sync</span></legend>' in html
    assert '"><span lang="en">Paid</span></label>' in html
    assert re.search(r'<option value="sales_order"[^>]* lang="en"[^>]*>Sales order</option>', html)
    assert '<span lang="en">Shop orders to ERP sales orders</span></h3>' in html
    # The service's own words stay unmarked German.
    assert ">Einstellungen speichern<" in html and '<option value="15" selected>' in html

"""A run's own page: what each error says of its record, what to do about the errors, how a
run still running reads, and the way to the connections when a connection failed the run.
The errors are the mirror's (integrator.io is not asked: the page's short cache is held)."""

import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from runs.models import FlowRunError, RunStatus
from tests.connect.portal.conftest import add_runs

pytestmark = pytest.mark.django_db


def _error(run, error_id, *, trace_key=None, retriable=True, **fields):
    return FlowRunError.objects.create(
        run=run,
        error_id=error_id,
        step_id="step-import",
        retry_data_key=f"retry-{error_id}" if retriable else "",
        code=fields.pop("code", "422"),
        message=fields.pop("message", "The customer's email address is missing."),
        trace_key=trace_key,
        synced_at=timezone.now(),
        **fields,
    )


def _run_page(client, link, run) -> str:
    key = f"connect.portal.run-errors:{run.pk}"
    cache.add(key, 1, 30)  # the errors as last read: integrator.io is not asked
    try:
        response = client.get(f"{link.path}runs/{run.job_id}/")
    finally:
        cache.delete(key)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("locale", "label"), [("en", "Record:"), ("de", "Datensatz:")])
def test_each_error_names_its_record_by_its_key(acme, portal_link, client, locale, label):
    [run] = add_runs(acme, "flow-customers", 1, errors=2)
    _error(run, "e1", trace_key="CUST-000042")
    _error(run, "e2")  # integrator.io named no record: nothing is said

    html = _run_page(client, portal_link(acme, locale=locale), run)

    meta = re.search(r'<p class="row-meta" id="error-e1-meta">(.*?)</p>', html, re.S).group(1)
    assert f'{label} <span class="record-key">CUST-000042</span>' in meta
    other = re.search(r'<p class="row-meta" id="error-e2-meta">(.*?)</p>', html, re.S).group(1)
    assert label not in other


def _position(html: str, pattern: str) -> int:
    found = re.search(pattern, html)
    assert found, pattern
    return found.start()


@pytest.mark.parametrize("locale", ["en", "de"])
def test_what_to_do_comes_before_the_retry_buttons(acme, portal_link, client, locale):
    [run] = add_runs(acme, "flow-customers", 1, errors=2)
    _error(run, "e1", trace_key="CUST-1")
    _error(run, "e2", trace_key="CUST-2")

    html = _run_page(client, portal_link(acme, locale=locale), run)

    guidance = _position(html, r'<div class="guidance" id="errors-guidance">')
    assert guidance < _position(html, r'<button[^>]*value="retry"')  # "Retry all" first of all
    assert guidance < _position(html, r'<button[^>]*value="resolve"')
    text = re.search(r'id="errors-guidance">(.*?)</div>', html, re.S).group(1)
    if locale == "en":
        assert "What to do" in text and "Then retry the records" in text
    else:
        assert "Was zu tun ist" in text and "Die Datensätze werden erneut gesendet" in text


def test_errors_that_cannot_be_retried_are_told_what_to_do_instead(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=1)
    _error(run, "e1", retriable=False)

    html = _run_page(client, portal_link(acme), run)

    text = re.search(r'id="errors-guidance">(.*?)</div>', html, re.S).group(1)
    assert "cannot be sent again from here" in text and "Mark them as resolved" in text
    assert 'value="retry"' not in html


def test_a_read_only_link_is_told_what_to_do_without_buttons(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=1)
    _error(run, "e1")

    html = _run_page(client, portal_link(acme, read_only=True), run)

    text = re.search(r'id="errors-guidance">(.*?)</div>', html, re.S).group(1)
    assert "What to do" in text and "<button" not in html


def test_a_run_whose_errors_are_all_dealt_with_has_nothing_to_do(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=1)
    _error(run, "e1", resolved=True)

    html = _run_page(client, portal_link(acme), run)

    assert "errors-guidance" not in html


@pytest.mark.parametrize(
    ("status", "locale", "said"),
    [
        (RunStatus.RUNNING, "en", "No errors so far."),
        (RunStatus.QUEUED, "en", "No errors so far."),
        (RunStatus.RETRYING, "en", "No errors so far."),
        (RunStatus.RUNNING, "de", "Bisher keine Fehler."),
        (RunStatus.COMPLETED, "en", "This run had no errors."),
    ],
)
def test_a_run_still_running_has_no_errors_so_far(acme, portal_link, client, status, locale, said):
    [run] = add_runs(acme, "flow-customers", 1, status=status)

    html = _run_page(client, portal_link(acme, locale=locale), run)

    assert f'<p class="empty">{said}</p>' in html
    if status != RunStatus.COMPLETED:
        assert "This run had no errors." not in html


def test_a_running_runs_counted_errors_not_listed_yet_are_not_said_to_be_gone(
    acme, portal_link, client
):
    # integrator.io counts a failed record before its error can be listed: the page must not
    # say the errors of a run still running are no longer kept.
    [run] = add_runs(acme, "flow-customers", 1, errors=2, status=RunStatus.RUNNING)

    html = _run_page(client, portal_link(acme), run)

    assert "no longer kept" not in html
    assert '<p class="empty">Its errors show here once the run has recorded them.</p>' in html


def _connections_link(html: str) -> re.Match | None:
    return re.search(r'<a [^>]*href="(/connect/[^"]*/portal/#connections)"[^>]*>([^<]*)</a>', html)


def test_a_run_failed_by_an_offline_connection_leads_to_the_connections(acme, portal_link, client):
    # integrator.io failed the run at once: its connection to the ERP is offline.
    [run] = add_runs(acme, "flow-customers", 1, errors=1, status=RunStatus.FAILED)
    _error(
        run,
        "e1",
        retriable=False,
        code="connection_offline",
        source="connection",
        message="Connection 'ERP' is offline.",
    )
    link = portal_link(acme)

    html = _run_page(client, link, run)

    found = _connections_link(html)
    assert found and found.group(1) == f"{link.path}#connections"
    assert found.group(2) == "Go to your connections"
    assert "a connection to one of your apps is not working" in html.lower()


def test_a_failed_run_while_a_connection_fails_its_checks_leads_there_too(
    acme, portal_link, client
):
    from tenants.models import ConnectionStatus, TenantConnection

    [run] = add_runs(acme, "flow-customers", 1, status=RunStatus.FAILED)
    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 Unauthorized"
    )

    html = _run_page(client, portal_link(acme, locale="de"), run)

    found = _connections_link(html)
    assert found and found.group(2) == "Zu Ihren Verbindungen"


def test_a_run_failed_for_another_reason_does_not(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=1, status=RunStatus.FAILED)
    _error(run, "e1", retriable=False, code="500", source="application")

    html = _run_page(client, portal_link(acme), run)

    assert _connections_link(html) is None


def test_a_link_without_the_connections_says_so_without_a_dead_link(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=1, status=RunStatus.FAILED)
    _error(run, "e1", retriable=False, source="connection", message="Connection is offline.")

    html = _run_page(client, portal_link(acme, sections=["runs"]), run)

    assert _connections_link(html) is None
    assert "a connection to one of your apps is not working" in html.lower()


def test_a_run_in_progress_is_followed_until_it_ends(acme, portal_link, client):
    # A tester left a run's page and the integration page open: the run failed after 18 s, but
    # both still said "Running" 35 s later, until reloaded. While a run shown has not ended,
    # both pages look again every 10 s (every 3 s while a change is applied: runs last
    # longer), and stop once it has.
    from runs.models import FlowRun

    [run] = add_runs(acme, "flow-customers", 1, status=RunStatus.RUNNING)
    link = portal_link(acme)
    refresh = '<noscript><meta http-equiv="refresh" content="10"></noscript>'

    running_page = client.get(link.path).content.decode()
    running_run = _run_page(client, link, run)
    FlowRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    ended_page = client.get(link.path).content.decode()
    ended_run = _run_page(client, link, run)

    for html in (running_page, running_run):
        assert 'data-portal-refresh="10"' in html
        assert "Running" in html
    # Without scripts the run's page reloads itself; the integration page does not, while its
    # settings can be changed: a reload would wipe what the person is typing there (below).
    assert refresh in running_run
    assert refresh not in running_page
    for html in (ended_page, ended_run):
        assert "http-equiv" not in html and "data-portal-refresh" not in html
        assert "Failed" in html


def test_without_scripts_a_run_in_progress_never_wipes_a_half_typed_settings_form(
    acme, portal_link, client
):
    # WCAG 2.2.1: with scripts off, the page reloaded itself every 10 s while a run (which may
    # last hours) was in progress, and each reload put the settings form back as it was saved.
    add_runs(acme, "flow-customers", 1, status=RunStatus.RUNNING)
    refresh = '<noscript><meta http-equiv="refresh" content="10"></noscript>'

    writable = client.get(portal_link(acme).path).content.decode()
    read_only = client.get(portal_link(acme, read_only=True).path).content.decode()
    runs_only = client.get(portal_link(acme, sections=["runs"]).path).content.decode()

    assert 'name="setting-' in writable and refresh not in writable
    assert "Reload this page to see how the runs in progress go on." in writable
    # Where nothing can be typed, the page still follows the run by itself.
    assert refresh in read_only and refresh in runs_only
    assert "Reload this page" not in read_only


@pytest.mark.parametrize(
    ("locale", "duration_ms", "said"),
    [
        ("en", 4_000, "4 seconds"),
        ("en", 60_000, "1 minute"),
        ("en", 150_000, "2 minutes 30 seconds"),
        ("en", 7_265_000, "2 hours 1 minute"),
        ("en", 90_000_000, "25 hours"),
        ("de", 1_000, "1 Sekunde"),
        ("de", 150_000, "2 Minuten 30 Sekunden"),
        ("de", 3_600_000, "1 Stunde"),
        ("de", 7_265_000, "2 Stunden 1 Minute"),
    ],
)
def test_a_long_runs_duration_reads_in_hours_and_minutes(
    acme, portal_link, client, locale, duration_ms, said
):
    # A run of two hours read "7,265 seconds": a number to work out, not a duration.
    [run] = add_runs(acme, "flow-customers", 1)
    run.duration_ms = duration_ms
    run.save(update_fields=["duration_ms"])
    link = portal_link(acme, locale=locale)

    page = _run_page(client, link, run)
    listed = client.get(link.path).content.decode()

    fact = re.search(r"<dt>(?:Duration|Dauer)</dt><dd>(.*?)</dd>", page).group(1)
    assert fact == said
    assert f'<span class="run-count">{said}</span>' in listed

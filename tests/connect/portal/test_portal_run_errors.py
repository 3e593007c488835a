"""A run's errors on the page: read from integrator.io (the sandbox) when the run is opened,
shown again from the mirror for a short while without asking again, read anew after a retry;
retry and resolve go through the runs services."""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import sync_playwright

from connect.portal_selectors import RETRY_CHECK_SECONDS
from core.accounts import integrator_account_default
from runs.call_budget import CallCounter, build_runs_client
from runs.error_management import error_management_forget
from runs.models import FlowRun
from runs.sync import tenant_runs_sync
from tenants.connect_links import connect_link_create
from tests.fixtures.browser import launch
from tests.fixtures.live_tenants import finish, run_flow

pytestmark = pytest.mark.django_db


def _error_reads(account) -> int:
    return sum(1 for r in account.control.requests_log() if r["path"].endswith("/errors"))


@pytest.fixture
def failed_run(account, make_tenant):
    live = make_tenant("acme")
    account.control.configure(job_error_records=2)
    finish(account, run_flow(account, live.flow_ids[0]))
    account.control.configure(job_error_records=0)
    with build_runs_client(account=integrator_account_default()) as client:
        tenant_runs_sync(tenant=live.tenant, client=client, counter=CallCounter())
    return FlowRun.objects.get(tenant=live.tenant, num_error=2)


def test_errors_are_read_when_the_run_is_opened_and_then_briefly_cached(
    account, failed_run, client
):
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    account.control.clear_requests_log()

    first = client.get(run_path).content.decode()
    reads = _error_reads(account)
    again = client.get(run_path).content.decode()

    assert "2 open errors" in first and "the customer&#x27;s email address is missing" in first
    assert reads > 0
    assert _error_reads(account) == reads  # the second look asked integrator.io nothing
    assert "2 open errors" in again


@pytest.mark.parametrize("done", ["retry", "resolve"])
def test_the_after_a_change_address_reloaded_does_not_ask_integrator_io_each_time(
    account, failed_run, client, done
):
    """`?done=retry` (where a retry lands) read the errors from integrator.io at every load,
    past the 30 s cache: anyone holding a link, a read-only one included, could reload it to
    make the account's calls without end, from the bucket every tenant of the account shares.
    Only a change made through the page reads them anew."""
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"], read_only=True).path
    run_path = f"{path}runs/{failed_run.job_id}/?done={done}"
    client.get(run_path)
    account.control.clear_requests_log()

    for _ in range(3):
        assert client.get(run_path).status_code == 200

    assert _error_reads(account) == 0


def test_the_page_a_retry_lands_on_reads_the_errors_once_and_not_at_each_reload(
    account, failed_run, client
):
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    landed = client.post(run_path + "errors", {"form_token": token, "action": "retry"})
    account.control.clear_requests_log()

    after = client.get(landed["Location"]).content.decode()
    reads = _error_reads(account)
    reloaded = client.get(landed["Location"]).content.decode()

    assert reads > 0 and "0 open errors" in after
    assert _error_reads(account) == reads and "0 open errors" in reloaded


def test_an_error_is_retried_and_then_shows_resolved(account, failed_run, client):
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]

    response = client.post(run_path + "errors", {"form_token": token, "action": "retry"})

    assert response.status_code == 303
    after = client.get(response["Location"]).content.decode()
    assert "The records were sent again" in after
    assert "0 open errors" in after and after.count("is-resolved") == 2


def test_a_retry_still_running_is_followed_until_failing_records_are_open_again(
    account, failed_run, client
):
    # On integrator.io a retry runs a while: the retried errors are resolved at once, and a
    # record that fails again is an open error only once the retry has ended. The page must
    # not look fixed meanwhile: it says the records are being sent again and looks again.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    account.control.configure(retry_run_seconds=600)
    account.control.force_job_outcomes(failed_run.flow_id, [{"status": "failed"}])

    response = client.post(run_path + "errors", {"form_token": token, "action": "retry"})

    assert response.status_code == 303
    during = client.get(response["Location"]).content.decode()
    assert "The records are being sent again." in during
    assert "The records were sent again" not in during
    assert "all resolved" not in during and "being sent again" in during
    assert 'data-portal-refresh="' in during and 'http-equiv="refresh"' in during

    (retry_job_id,) = re.search(r"retry=([^&#]+)", response["Location"])[1].split("%2C")
    account.control.advance_job(retry_job_id, to="end")
    # A reload sooner than RETRY_CHECK_SECONDS asks integrator.io nothing: reloading the
    # page's address cannot spend the account's calls faster than the page looks again.
    calls = len(account.control.requests_log())
    soon = client.get(response["Location"]).content.decode()
    assert "being sent again" in soon and len(account.control.requests_log()) == calls
    time.sleep(RETRY_CHECK_SECONDS)
    after = client.get(response["Location"]).content.decode()

    assert "The records were sent again" in after and "records that failed again" in after
    assert "2 open errors" in after
    assert "data-portal-refresh" not in after and 'http-equiv="refresh"' not in after


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        (
            "en",
            "There are no open errors left to retry: they were retried or resolved already. "
            "The list below is up to date.",
        ),
        (
            "de",
            "Es gibt keine offenen Fehler mehr, die erneut versucht werden können: Sie wurden "
            "bereits erneut versucht oder als erledigt markiert. Die Liste unten ist aktuell.",
        ),
    ],
)
def test_retry_all_on_a_page_whose_errors_were_retried_meanwhile_says_so(
    account, failed_run, client, locale, said
):
    # Two tabs, or a colleague: "Retry all" on a page whose errors were retried since it was
    # shown. It said the record was never read, of records that were read and retried.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"], locale=locale).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    assert (
        client.post(run_path + "errors", {"form_token": token, "action": "retry"}).status_code
        == 303
    )

    response = client.post(run_path + "errors", {"form_token": token, "action": "retry"})

    page = response.content.decode()
    assert response.status_code == 422
    assert said in page
    assert "never read" not in page and "nie gelesen" not in page
    assert ("0 open errors" if locale == "en" else "0 offene Fehler") in page


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        (
            "en",
            "There are no open errors left to resolve: they were retried or resolved already. "
            "The list below is up to date.",
        ),
        (
            "de",
            "Es gibt keine offenen Fehler mehr, die als erledigt markiert werden können: Sie "
            "wurden bereits erneut versucht oder als erledigt markiert. Die Liste unten ist "
            "aktuell.",
        ),
    ],
)
def test_mark_all_resolved_on_a_page_whose_errors_were_resolved_meanwhile_says_none_was_open(
    account, failed_run, client, locale, said
):
    # Two tabs, or a colleague: "Mark all resolved" on a page whose errors were resolved
    # since it was shown. It said "Marked as resolved." though nothing was open to mark.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"], locale=locale).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    assert (
        client.post(run_path + "errors", {"form_token": token, "action": "resolve"}).status_code
        == 303
    )

    response = client.post(run_path + "errors", {"form_token": token, "action": "resolve"})

    page = response.content.decode()
    assert response.status_code == 422
    assert said in page
    assert "Marked as resolved." not in page and "Als erledigt markiert." not in page
    assert ("0 open errors" if locale == "en" else "0 offene Fehler") in page


def test_resolve_is_refused_plainly_on_an_error_management_1_account(account, make_tenant, client):
    account.control.configure(error_management=1)
    error_management_forget()
    live = make_tenant("globex")
    account.control.configure(job_error_records=2)
    finish(account, run_flow(account, live.flow_ids[0]))
    with build_runs_client(account=integrator_account_default()) as runs_client:
        tenant_runs_sync(tenant=live.tenant, client=runs_client, counter=CallCounter())
    run = FlowRun.objects.get(tenant=live.tenant, num_error=2)
    path = connect_link_create(tenant=live.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]

    response = client.post(run_path + "errors", {"form_token": token, "action": "resolve"})

    assert response.status_code == 409
    assert "These errors cannot be retried or resolved from here." in response.content.decode()
    assert "2 open errors" in response.content.decode()


def test_a_run_id_with_a_nul_character_is_a_missing_run(account, failed_run, client):
    # The URL's run id is anyone's to write; PostgreSQL refuses a NUL in a query: it was a 500.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    html = client.get(f"{path}runs/{failed_run.job_id}/").content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]

    opened = client.get(f"{path}runs/abc%00def/")
    acted = client.post(f"{path}runs/abc%00def/errors", {"form_token": token, "action": "retry"})

    assert opened.status_code == 404 and acted.status_code == 404


def test_an_error_resolved_meanwhile_says_so_plainly(account, failed_run, client):
    # Resolved elsewhere (another tab, the host's API) after the page was drawn: the service
    # refuses the stale error id, and the page says that the error is no longer open.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    error_id = failed_run.errors.order_by("error_id").first().error_id
    client.post(run_path + "errors", {"form_token": token, "action": "resolve"})
    response = client.post(
        run_path + "errors", {"form_token": token, "action": "retry", "error_id": error_id}
    )

    assert response.status_code == 400, response.status_code
    assert "This error is no longer open." in response.content.decode()


def test_each_errors_buttons_are_described_by_that_error(account, failed_run, client):
    # Every error has its own "Retry" and "Mark resolved": a screen reader going from button to
    # button hears which error each one acts on, not the same two words over and over.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    html = client.get(f"{path}runs/{failed_run.job_id}/").content.decode()

    items = re.findall(r'<li class="error-item[^"]*" id="error-([^"]+)">(.*?)</li>', html, re.S)
    assert len(items) == 2
    for error_id, item in items:
        assert f'id="error-{error_id}-message"' in item
        buttons = re.findall(r"<button[^>]*>", item)
        assert buttons
        for button in buttons:
            assert f'aria-describedby="error-{error_id}-message error-{error_id}-meta"' in button


@pytest.mark.browser
def test_after_a_retry_the_notice_that_says_so_takes_focus(account, failed_run, client):
    # The page is loaded anew after the button (post, redirect, get): a status message present
    # at load is not announced, and focus would start at the top of the page. The notice takes
    # focus, as an error summary does, so the person hears what happened and goes on from it.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"]).path
    run_path = f"{path}runs/{failed_run.job_id}/"
    html = client.get(run_path).content.decode()
    marker = 'name="form_token" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    response = client.post(run_path + "errors", {"form_token": token, "action": "retry"})
    after = client.get(response["Location"]).content.decode()
    script = (Path(settings.BASE_DIR) / "static" / "connect" / "portal.js").read_text()

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.set_content(re.sub(r"<script[^>]*></script>", "", after))
        page.add_script_tag(content=script)
        focused = page.evaluate(
            "[document.activeElement.getAttribute('role'), document.activeElement.textContent]"
        )
        browser.close()

    role, text = focused
    assert role == "status" and "The records were sent again." in text


def test_an_errors_own_words_are_marked_english_on_a_german_page(account, failed_run, client):
    # integrator.io and the target apps write their error messages in English: on a German
    # page, without its own lang, a screen reader reads them with German pronunciation.
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"], locale="de").path
    html = client.get(f"{path}runs/{failed_run.job_id}/").content.decode()

    assert '<html lang="de">' in html
    messages = re.findall(r'<p class="error-message"[^>]*>(.*?)</p>', html, re.S)
    assert len(messages) == 2
    for message in messages:
        assert message.startswith('<span lang="en">') and message.endswith("</span>")
        assert "the customer&#x27;s email address is missing" in message
    # The page's own words around them stay German, unmarked.
    assert re.search(r'<p class="row-meta"[^>]*>(?:(?!lang=).)*Code 422', html)


def test_a_run_error_without_a_message_is_said_in_the_pages_language(
    account, failed_run, client, monkeypatch
):
    # The page's own stand-in for a missing message is German, so it is not marked English.
    from connect import portal_selectors

    real = portal_selectors.portal_run_errors

    def without_messages(**kwargs):
        detail = real(**kwargs)
        for error in detail.errors:
            error.message = ""
        return detail

    monkeypatch.setattr("connect.portal_views.portal_run_errors", without_messages)
    path = connect_link_create(tenant=failed_run.tenant, sections=["runs"], locale="de").path
    html = client.get(f"{path}runs/{failed_run.job_id}/").content.decode()

    messages = re.findall(r'<p class="error-message"[^>]*>(.*?)</p>', html, re.S)
    assert messages == ["Der Datensatz konnte nicht verarbeitet werden."] * 2

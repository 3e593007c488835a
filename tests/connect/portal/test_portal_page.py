"""The integration page as a customer opens it: its sections from the mirror, the settings
form generated from the schema (editable settings only), the flows with their switches."""

import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from runs.models import FlowRun, FlowRunError, RunStatus
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import ConnectLink
from tenants.services import template_document_read, template_load, tenant_create
from tests.connect.conftest import ACME_ORIGIN
from tests.connect.portal.conftest import add_runs


def test_it_shows_every_section(acme, portal_link, client):
    html = client.get(portal_link(acme).path).content.decode()

    for title in ("Connections", "Settings", "Flows", "Runs and errors"):
        assert f">{title}</h2>" in html
    # Connections: each slot, its state and when it was checked; a way to reconnect.
    assert "Online shop" in html and "ERP" in html
    assert html.count("Last checked") == 2
    assert "?edit=shop" in html
    # Flows: the mirror's, each with its last run; the schedule says when it runs next.
    assert "Shop orders to ERP sales orders" in html
    assert "Next run" in html
    # Runs: with their record counts and durations, each opening its own page.
    assert "20 records synced" in html and "4 seconds" in html
    assert "/portal/runs/flow-orders-job-0/" in html


def test_the_settings_form_has_only_the_editable_settings(acme, portal_link, client):
    html = client.get(portal_link(acme).path).content.decode()

    # The flows' schedule as the intervals it can be, in words; an enum as a select, a
    # boolean as a checkbox, an array of enums as checkboxes; descriptions as help text; the
    # current values filled in.
    assert '<select name="setting-sync_interval_minutes"' in html
    assert '<option value="15" selected>Every 15 minutes</option>' in html
    assert '<option value="60">Every hour</option>' in html
    assert '<option value="1440">Once a day</option>' in html
    assert 'value="45"' not in html
    assert '<select name="setting-erp_order_type"' in html
    assert '<option value="sales_order" selected>Sales order</option>' in html
    assert 'type="checkbox" name="setting-update_existing_customers"' in html
    assert 'name="setting-order_statuses" value="paid"' in html
    assert "How often your orders, customers and stock are synced." in html
    # What the template keeps for the host is nowhere.
    assert "store_id" not in html and "erp_subsidiary" not in html


def test_only_the_flows_the_template_allows_have_a_switch(acme, portal_link, client):
    html = client.get(portal_link(acme).path).content.decode()

    assert 'name="flow" value="flows.customers"' in html
    assert 'name="flow" value="flows.stock"' in html
    assert 'name="flow" value="flows.orders"' not in html


def test_only_the_sections_of_the_link_show(acme, portal_link, client):
    html = client.get(portal_link(acme, sections=["runs"]).path).content.decode()

    assert ">Runs and errors</h2>" in html
    assert ">Settings</h2>" not in html and ">Connections</h2>" not in html


def test_a_read_only_link_shows_but_offers_no_change(acme, portal_link, client):
    html = client.get(portal_link(acme, read_only=True).path).content.decode()

    assert "This page shows, but changes nothing." in html
    assert "Save settings" not in html and "Turn off" not in html and "Reconnect" not in html
    assert 'name="setting-sync_interval_minutes"' in html and "disabled" in html


def test_a_read_only_pages_footer_does_not_speak_of_changes(acme, portal_link, client):
    read_only = client.get(portal_link(acme, read_only=True).path).content.decode()
    writable = client.get(portal_link(acme).path).content.decode()
    german = client.get(portal_link(acme, read_only=True, locale="de").path).content.decode()

    footer = re.search(r'<footer class="fine-print">(.*?)</footer>', read_only, re.S).group(1)
    assert "Changes you make" not in footer
    assert "This page is for viewing only" in footer
    assert "Changes you make here are checked and applied" in writable
    assert "Diese Seite dient nur zur Ansicht" in german


def test_a_credential_form_link_opens_the_form_there(acme, client):
    from tenants.connect_links import connect_link_create

    issued = connect_link_create(tenant=acme)
    response = client.get(issued.path + "portal/")

    assert response.status_code == 303
    assert response["Location"] == issued.path


def test_the_page_keeps_the_embedding_rules(acme, portal_link, client):
    response = client.get(portal_link(acme).path)

    assert "frame-ancestors https://app.acme.test" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


def test_the_link_remembers_its_options(acme, portal_link):
    issued = portal_link(acme, sections=["runs", "settings"], read_only=True, locale="de")

    link = ConnectLink.objects.get(pk=issued.link.pk)
    assert link.sections == ["settings", "runs"]  # the page's order
    assert link.read_only is True and link.locale == "de"
    assert issued.path.endswith("/portal/")


def test_settings_that_no_longer_fit_the_schema_do_not_break_the_page(acme, portal_link, client):
    type(acme).objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 2})

    response = client.get(portal_link(acme).path)

    assert response.status_code == 200
    assert 'value="2"' in response.content.decode()


def test_an_oauth_slot_reconnects_through_the_apps_consent(db, sandbox, client):
    from tenants.connect_links import connect_link_create
    from tenants.services import template_load, tenant_create
    from tests.fixtures.crm_oauth import crm_template_document

    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(external_id="initech", name="Initech", template=template)
    issued = connect_link_create(tenant=tenant, sections=["connections"])

    html = client.get(issued.path).content.decode()

    # The form's own OAuth start, in the top window (providers refuse to be framed)...
    assert f"/connect/{issued.token}/oauth/crm/start?form_token=" in html
    assert "mode=top" in html and 'target="_top"' in html
    # ... and a key-based slot on the credential form.
    assert "?edit=erp" in html


def _crm_tenant(sandbox, *, status, connection_id):
    from tenants.models import TenantConnection
    from tenants.services import template_load, tenant_create
    from tests.fixtures.crm_oauth import crm_template_document

    template, _ = template_load(document=crm_template_document(sandbox))
    tenant, _ = tenant_create(external_id="initech", name="Initech", template=template)
    TenantConnection.objects.filter(tenant=tenant, slot_key="crm").update(
        status=status,
        connection_id=connection_id,
        last_ping_at=timezone.now(),
        last_ping_error="401 Unauthorized: the access token was revoked" if connection_id else "",
    )
    return tenant


def _button_label(html: str, slot: str) -> str:
    row = html[html.index(f'id="connection-{slot}"') :]
    return re.search(r'<span class="button-label">([^<]*)</span>', row).group(1)


@pytest.mark.parametrize(
    ("status", "connection_id", "label", "form_label"),
    [
        ("failed", "conn-crm", "Reconnect", "Reconnect with CRM"),
        ("ok", "conn-crm", "Reconnect", "Reconnect with CRM"),
        ("missing", "", "Connect", "Connect with CRM"),
    ],
)
def test_an_oauth_slot_whose_connection_stopped_working_offers_reconnect(
    db, sandbox, client, status, connection_id, label, form_label
):
    # README calls it Reconnect; a connection that stopped working (the user removed the app
    # in their CRM) said "Connect", on the integration page and on the form, as if it had
    # never been made. Only an app never connected says "Connect".
    from tenants.connect_links import connect_link_create

    tenant = _crm_tenant(sandbox, status=status, connection_id=connection_id)
    portal = connect_link_create(tenant=tenant, sections=["connections"])
    form = connect_link_create(tenant=tenant)

    html = client.get(portal.path).content.decode()
    form_html = client.get(form.path + "?edit=crm").content.decode()

    assert _button_label(html, "crm") == label
    assert re.search(r'<span class="button-label">\s*' + form_label, form_html)


def _errors_of(run, *, open_count, resolved_count):
    """The run's errors as reading them (the run's page) mirrored them."""
    now = timezone.now()
    for number in range(open_count + resolved_count):
        FlowRunError.objects.create(
            run=run,
            error_id=f"e{number}",
            message="The customer's email address is missing.",
            resolved=number >= open_count,
            synced_at=now,
        )


def test_errors_retried_or_resolved_are_no_longer_shown_as_open(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=3)
    _errors_of(run, open_count=0, resolved_count=3)
    path = portal_link(acme).path

    html = client.get(path).content.decode()

    # Under Flows (its last run) and under Runs: the count stays, quietly, and says so.
    resolved = '<span class="run-count run-errors-resolved">3 errors, all resolved</span>'
    assert html.count(resolved) == 2
    assert 'class="run-errors' not in html and "run-has-errors" not in html
    # The run's own page agrees (its errors as last read; integrator.io is not asked again).
    key = f"connect.portal.run-errors:{run.pk}"
    cache.add(key, 1, 30)
    page = client.get(f"{path}runs/{run.job_id}/").content.decode()
    cache.delete(key)
    assert '<dd>3<span class="fact-note">all resolved</span></dd>' in page
    assert "0 open errors" in page


def test_a_run_with_some_errors_still_open_says_how_many(acme, portal_link, client):
    [run] = add_runs(acme, "flow-customers", 1, errors=3)
    _errors_of(run, open_count=1, resolved_count=2)

    html = client.get(portal_link(acme).path).content.decode()

    assert html.count('<strong class="run-errors run-count">1 of 3 errors open</strong>') == 2
    assert "run-has-errors" in html


def test_a_run_whose_errors_were_never_read_counts_open_ones_by_integrator_io(
    acme, portal_link, client
):
    [_open, dealt_with] = add_runs(acme, "flow-customers", 2, errors=3)
    FlowRun.objects.filter(pk=dealt_with.pk).update(num_resolved=3)

    html = client.get(portal_link(acme, sections=["runs"]).path).content.decode()

    assert '<strong class="run-errors run-count">3 errors</strong>' in html  # all open
    assert "3 errors, all resolved" in html


def test_times_name_their_time_zone(acme, portal_link, client):
    html = client.get(portal_link(acme).path).content.decode()

    # As the credential form does ("Nov. 30, 2026, 5:48 p.m. UTC"): the page's times are UTC.
    labelled = re.compile(r"<time datetime=\"[^\"]+\">[^<]+ UTC</time>")
    assert len(labelled.findall(html)) == len(re.findall(r"<time ", html))
    assert re.search(r"Last checked <time[^>]*>[^<]+ UTC</time>", html)
    assert re.search(r"Next run: <time[^>]*>[^<]+ UTC</time>", html)


def test_a_read_only_link_does_not_offer_to_retry_errors(acme, portal_link, client):
    read_only = client.get(portal_link(acme, read_only=True).path).content.decode()
    writable = client.get(portal_link(acme).path).content.decode()

    assert "Open a run with errors to see which records failed.</p>" in read_only
    assert "retry" not in read_only
    assert "Open a run with errors to see which records failed, and retry them." in writable


def test_a_credentials_edit_opened_here_returns_here(acme, portal_link, client):
    path = portal_link(acme).path
    html = client.get(path).content.decode()
    edit = re.search(r'href="([^"]*\?edit=shop[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "back=portal" in edit

    form = client.get(edit).content.decode()

    # Cancel goes back to this page, which says that nothing was saved.
    cancel = re.search(r'href="([^"]+)">Cancel</a>', form).group(1).replace("&amp;", "&")
    assert cancel == f"{path}?canceled=shop#connections-outcome"
    back = client.get(cancel).content.decode()
    assert "Nothing was saved: Online shop stays connected as it was." in back
    assert "The credentials worked and were saved." not in back
    # A save (connect.views, tests/connect/test_submit.py) comes back with `saved`.
    saved = client.get(f"{path}?saved=shop").content.decode()
    assert "Online shop is connected." in saved and "Nothing was saved" not in saved


def test_a_failing_connections_edit_opened_here_can_go_back_here(acme, portal_link, client):
    # Reconnect on a connection that stopped working opens its form with nothing to keep; the
    # way back without saving was only the browser's Back, which inside the host app's iframe
    # may leave the host app's page instead.
    from tenants.models import ConnectionStatus, TenantConnection

    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 Unauthorized"
    )
    path = portal_link(acme).path
    html = client.get(path).content.decode()
    edit = re.search(r'href="([^"]*\?edit=shop[^"]*)"', html).group(1).replace("&amp;", "&")

    form = client.get(edit).content.decode()

    cancel = re.search(r'href="([^"]+)">Cancel</a>', form).group(1).replace("&amp;", "&")
    assert cancel == f"{path}#connections"
    back = client.get(cancel).content.decode()
    assert "stays connected as it was" not in back  # it was not working
    # On the form itself (no way back asked), a slot that is not working has no Cancel: the
    # form is where it is mended.
    assert ">Cancel</a>" not in client.get(edit.split("?")[0]).content.decode()


def _flow_row(html: str, flow_id: str) -> str:
    return re.search(rf'<li class="portal-row flow-row" id="flow-{flow_id}">.*?</li>', html, re.S)[
        0
    ]


def _words(row: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_a_flow_being_switched_says_so_throughout_its_row(acme, portal_link, client):
    # Settings want the stock flow on and the customers flow off; integrator.io (the mirror)
    # still has them the other way round: both switches are on their way.
    type(acme).objects.filter(pk=acme.pk).update(
        settings={"flows": {"stock": True, "customers": False}}
    )

    html = client.get(portal_link(acme).path).content.decode()

    switching_on = _words(_flow_row(html, "flow-stock"))
    assert "Switching on" in switching_on and "Does not run until it is switched on" in switching_on
    assert "Does not run while it is off" not in switching_on
    assert not re.search(r"\bOn\b|\bOff\b", switching_on.replace("Switching on", ""))
    switching_off = _words(_flow_row(html, "flow-customers"))
    assert "Switching off" in switching_off and "Runs until it is switched off" in switching_off
    assert "Next run" not in switching_off
    assert not re.search(r"\bOn\b|\bOff\b", switching_off.replace("Switching off", ""))
    # A flow not being switched reads as before.
    settled = _words(_flow_row(html, "flow-orders"))
    assert "Switching" not in settled and "On" in settled.split()


@pytest.fixture
def settings_kept_by_host(db):
    """A template whose version names no `portal` settings: the host keeps every one."""
    document = template_document_read(path=DEMO_TEMPLATE_FILE)
    document = {**document, "key": "host-keeps-settings"}
    document.pop("portal")
    template, _ = template_load(document=document)
    tenant, _ = tenant_create(
        external_id="initech", name="Initech", template=template, allowed_origins=[ACME_ORIGIN]
    )
    return tenant


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en", "There are no settings you can change here."), ("de", "Hier gibt es keine")],
)
def test_settings_the_customer_cannot_change_offer_no_save(
    settings_kept_by_host, portal_link, client, locale, words
):
    # A Save button here would post an empty form that is always refused ("We could not
    # accept this form"): the section says there is nothing to change instead.
    html = client.get(portal_link(settings_kept_by_host, locale=locale).path).content.decode()

    settings = re.search(r'<section[^>]* id="settings".*?</section>', html, re.S)[0]
    assert words in settings
    assert "<form" not in settings and "<button" not in settings


def test_a_run_address_on_a_link_without_runs_is_a_page_not_a_refused_form(acme, client):
    from tenants.connect_links import connect_link_create

    path = connect_link_create(tenant=acme, sections=["settings"]).path

    response = client.get(f"{path}runs/0123456789abcdef01234567/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "Your integration page does not show runs." in html
    assert "could not accept this form" not in html
    assert f'href="{path}"' in html


def test_a_run_the_service_stopped_following_says_its_outcome_is_unknown(acme, portal_link, client):
    """integrator.io no longer had the job: the run was shown as "Stopped", which nobody
    did. Its counts stay as last read."""
    [run] = add_runs(acme, "flow-customers", 1, status=RunStatus.ABANDONED)
    FlowRun.objects.filter(pk=run.pk).update(ended_at=None, duration_ms=None)

    html = client.get(portal_link(acme, sections=["runs"]).path).content.decode()
    german = client.get(portal_link(acme, sections=["runs"], locale="de").path)

    assert '<span class="run-status">Outcome unknown</span>' in html
    assert "20 records synced" in html
    assert '<span class="run-status">Ergebnis unbekannt</span>' in german.content.decode()


@pytest.mark.parametrize(
    ("locale", "lead", "plural"),
    [
        ("en", "The app your integration works with, and whether", "The apps your"),
        ("de", "Die App, mit der Ihre Integration arbeitet, und ob", "Die Apps, mit denen"),
    ],
)
def test_the_connections_of_a_one_app_template_speak_of_one_app(
    db, sandbox, portal_link, client, locale, lead, plural
):
    from tenants.models import TenantConnection
    from tests.connect.conftest import demo_template_document
    from tests.connect.portal.conftest import make_live

    document = demo_template_document(sandbox)
    document.update(key="shop-only", name="Shop order export", slots=document["slots"][:1])
    template, _ = template_load(document=document)
    tenant, _ = tenant_create(external_id="solo", name="Solo", template=template)
    TenantConnection.objects.get_or_create(tenant=tenant, slot_key="shop")
    make_live(tenant)

    html = client.get(portal_link(tenant, sections=["connections"], locale=locale).path)
    html = html.content.decode()

    assert lead in html and plural not in html


def test_a_connection_found_gone_is_not_said_to_have_refused_details(acme, portal_link, client):
    # The connection check found the ERP's connection deleted in integrator.io. The page said
    # "ERP did not accept these details." to a customer who had typed nothing; it says the
    # connection is gone, and how to restore it (en and de), without naming integrator.io.
    from runs.checks import MISSING_CONNECTION_MESSAGE
    from tenants.models import ConnectionStatus, TenantConnection

    TenantConnection.objects.filter(tenant=acme, slot_key="erp").update(
        status=ConnectionStatus.FAILED, last_ping_error=MISSING_CONNECTION_MESSAGE
    )

    html = client.get(portal_link(acme).path).content.decode()
    german = client.get(portal_link(acme, locale="de").path).content.decode()

    assert "did not accept these details" not in html
    assert "The connection to ERP no longer exists. Connect ERP again to restore it." in html
    assert (
        "Die Verbindung zu ERP besteht nicht mehr. Verbinden Sie ERP erneut, um sie "
        "wiederherzustellen."
    ) in german
    assert "integrator.io" not in html and "integrator.io" not in german


def test_a_run_error_names_the_app_not_the_connections_internal_name(acme, portal_link, client):
    # A run that failed because a connection was offline: integrator.io's message names the
    # connection as this service named it there, with its deployment mark ("Connection 'Acme
    # Corp (acme) - ERP [k3v9x2m7q1/a8f0c2d4e6b1]' is offline."), which the customer was shown
    # as it was. The page names the app, as the customer knows it.
    from core.remote_marks import name_with_mark

    [run] = add_runs(acme, "flow-customers", 1, errors=1)
    internal = name_with_mark("Acme Corp (acme) - ERP", tenant_uid=acme.uid)
    FlowRunError.objects.create(
        run=run,
        error_id="e1",
        code="connection_offline",
        message=f"Connection '{internal}' is offline.",
        synced_at=timezone.now(),
    )
    key = f"connect.portal.run-errors:{run.pk}"
    cache.add(key, 1, 30)

    page = client.get(f"{portal_link(acme).path}runs/{run.job_id}/").content.decode()
    cache.delete(key)

    assert "Connection &#x27;ERP&#x27; is offline." in page
    assert acme.uid not in page and "Acme Corp (acme)" not in page


@pytest.mark.parametrize(
    ("locale", "started", "claim"),
    [
        ("en", "Runs when it is started", "on a schedule"),
        ("de", "Läuft, wenn er gestartet wird", "nach Zeitplan"),
    ],
)
def test_flows_that_run_only_when_started_are_not_said_to_run_on_a_schedule(
    db, sandbox, portal_link, client, locale, started, claim
):
    """The CRM template's flow has no schedule: its row said 'Runs when it is started' under
    a section lead saying that each flow runs 'on a schedule'. Each row says when it runs."""
    from tests.connect.portal.conftest import add_flow, make_live

    tenant = make_live(_crm_tenant(sandbox, status="ok", connection_id="conn-crm"))
    add_flow(tenant, "flow-contacts", "CRM contacts to ERP customers", "5eed00000000000000000f05")

    html = client.get(portal_link(tenant, sections=["flows"], locale=locale).path)
    html = html.content.decode()

    assert started in html
    assert claim not in html


@pytest.mark.parametrize(
    ("locale", "failed", "see"),
    [
        ("en", "The setup of your integration did not finish.", "See what happened"),
        (
            "de",
            "Die Einrichtung Ihrer Integration wurde nicht abgeschlossen.",
            "Ansehen, was passiert ist",
        ),
    ],
)
def test_a_setup_that_failed_is_said_with_the_way_to_what_happened(
    acme, portal_link, client, locale, failed, see
):
    """A tenant whose setup failed: the page showed its apps connected, 'your flows show here
    once your integration is set up' and 'your settings apply when your integration is set
    up', as if it were on its way; nothing said that it had stopped."""
    from tenants.models import Tenant, TenantStatus

    Tenant.objects.filter(pk=acme.pk).update(status=TenantStatus.FAILED)
    issued = portal_link(acme, locale=locale)

    html = client.get(issued.path).content.decode()

    assert failed in html
    assert f'href="/connect/{issued.token}/status/">{see}</a>' in html
    # ... and from there, back to the integration page.
    status = client.get(f"/connect/{issued.token}/status/").content.decode()
    assert f'<a href="/connect/{issued.token}/portal/">' in status


def test_a_live_integration_says_nothing_of_a_failed_setup(acme, portal_link, client):
    html = client.get(portal_link(acme).path).content.decode()

    assert "did not finish" not in html


def test_the_status_page_of_a_credential_form_link_has_no_way_to_a_portal(acme, client):
    from tenants.connect_links import connect_link_create

    issued = connect_link_create(tenant=acme)

    html = client.get(f"/connect/{issued.token}/status/").content.decode()

    assert "/portal/" not in html

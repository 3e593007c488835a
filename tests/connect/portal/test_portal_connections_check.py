"""The integration page's "Check again" next to a connection that is not working: the
periodic check's service, now, without scripts (post, redirect, message), sharing the API's
once-per-tenant turn."""

import pytest
from django.utils import translation

from audit.models import AuditEvent
from runs.actions import connections_check_turn_free
from tenants.connect_links import PORTAL_SECTIONS, connect_link_create
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from webhooks.models import Event, EventType

pytestmark = pytest.mark.django_db

TEXT = "Check again"
BUTTON = f">{TEXT}<span"


def _check_token(html: str, path: str) -> str:
    start = html.index('action="' + path + 'connections/check"')
    marker = 'name="form_token" value="'
    at = html.index(marker, start) + len(marker)
    return html[at:].split('"', 1)[0]


def test_check_again_recovers_a_connection_fixed_on_the_apps_side(account, make_tenant, client):
    acme = make_tenant("acme")
    shop = acme.connection_ids["shop"]
    account.control.force_ping_outcome(shop, ok=False, message="Invalid API key.")
    TenantConnection.objects.filter(tenant=acme.tenant, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="Invalid API key."
    )
    path = connect_link_create(tenant=acme.tenant, sections=list(PORTAL_SECTIONS)).path

    html = client.get(path).content.decode()
    assert html.count(BUTTON) == 1  # only the connection that is not working

    still = client.post(path + "connections/check", {"form_token": _check_token(html, path)})
    assert still.status_code == 303
    assert still["Location"].endswith("?checked=failed#connections-outcome")
    assert "a connection still does not work" in client.get(still["Location"]).content.decode()

    # At once again: the turn is spent, and the page says so in words.
    soon = client.post(path + "connections/check", {"form_token": _check_token(html, path)})
    assert soon.status_code == 429
    assert int(soon["Retry-After"]) <= 30
    assert "We checked moments ago" in soon.content.decode()

    account.control.force_ping_outcome(shop, ok=True)
    connections_check_turn_free(tenant=acme.tenant)  # the 30 s have passed
    fixed = client.post(path + "connections/check", {"form_token": _check_token(html, path)})

    assert fixed.status_code == 303
    page = client.get(fixed["Location"]).content.decode()
    assert "your connections work" in page
    assert BUTTON not in page
    assert TenantConnection.objects.get(tenant=acme.tenant, slot_key="shop").status == "ok"
    assert acme.refresh().status == TenantStatus.ACTIVE
    assert Event.objects.filter(event_type=EventType.TENANT_RECOVERED).count() == 1
    # Each check that took place is recorded once, the customer's link as who asked.
    checks = AuditEvent.objects.filter(action="tenant.connections_check")
    assert [e.actor_type for e in checks] == ["connect_link", "connect_link"]
    assert checks.order_by("id").last().changes["connections"]["after"]["shop"] == "ok"


def test_a_read_only_link_has_no_check_again_and_its_post_is_refused(make_tenant, client):
    acme = make_tenant("acme")
    TenantConnection.objects.filter(tenant=acme.tenant, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="Invalid API key."
    )
    path = connect_link_create(
        tenant=acme.tenant, sections=list(PORTAL_SECTIONS), read_only=True
    ).path

    assert BUTTON not in client.get(path).content.decode()
    assert client.post(path + "connections/check", {"form_token": "x"}).status_code == 403


def test_check_again_speaks_german(make_tenant, client):
    acme = make_tenant("acme")
    TenantConnection.objects.filter(tenant=acme.tenant, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="Invalid API key."
    )
    path = connect_link_create(tenant=acme.tenant, sections=list(PORTAL_SECTIONS), locale="de").path

    html = client.get(path).content.decode()
    with translation.override("de"):
        german = translation.gettext(TEXT)
    assert german != TEXT
    assert f">{german}<span" in html


def test_a_checks_notice_is_shown_only_while_it_still_holds(acme, portal_link, client):
    # After "Check again" found the connections working, the page's address keeps
    # ?checked=ok: reloaded or returned to once the shop's connection had broken, it showed
    # "your connections work" right above "Online shop · Not working". A check's notice says
    # nothing the connections' states now contradict (as a slot's ?saved= notice).
    path = portal_link(acme).path
    works = "We checked again just now: your connections work."
    fails = "We checked again just now: a connection still does not work."

    assert works in client.get(path + "?checked=ok").content.decode()
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="Invalid API key."
    )
    broken = client.get(path + "?checked=ok").content.decode()
    assert "Not working" in broken and works not in broken
    assert fails in client.get(path + "?checked=failed").content.decode()
    TenantConnection.objects.filter(tenant=acme, slot_key="shop").update(
        status=ConnectionStatus.OK, last_ping_error=""
    )
    fixed = client.get(path + "?checked=failed").content.decode()
    assert fails not in fixed and "Not working" not in fixed

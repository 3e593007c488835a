"""The integration page's "Check again" next to a connection that is not working: the
periodic check's service, now, without scripts (post, redirect, message), sharing the API's
once-per-tenant turn."""

import re

import pytest
from django.utils import translation

from audit.models import AuditEvent
from runs.actions import connections_check_turn_free
from runs.errors import ConnectionCheckTooSoon
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
    assert soon.status_code == 303
    assert "We checked moments ago" in client.get(soon["Location"]).content.decode()

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


def test_a_check_too_soon_lands_on_the_page_not_at_the_posts_address(
    acme, portal_link, client, monkeypatch
):
    # "Check again" twice within 30 s showed "Please wait about 25 seconds" at the post's
    # address, which a reload posted again (the browser asked to confirm). It redirects to
    # the page's connections, as a check done does; the address says until when to wait, so
    # a reload later says how long is left, and nothing once the wait is over.
    import time

    from connect import portal_views
    from connect.form_tokens import form_token_issue
    from connect.portal_forms import CONNECTIONS_CHECK_FORM

    link = portal_link(acme)
    path = link.path
    token = form_token_issue(link_id=str(link.link.id), slot_key=CONNECTIONS_CHECK_FORM)
    monkeypatch.setattr(
        portal_views,
        "portal_connections_check",
        lambda **_: (_ for _ in ()).throw(ConnectionCheckTooSoon("Too soon.", retry_after=25)),
    )

    response = client.post(path + "connections/check", {"form_token": token})

    assert response.status_code == 303
    location = response["Location"]
    assert location.startswith(path + "?") and location.endswith("#connections-outcome")
    landed = client.get(location).content.decode()
    assert re.search(r"Please wait about 2[56] seconds and check again\.", landed)
    until = int(re.search(r"until=(\d+)", location).group(1))
    assert abs(until - (time.time() + 25)) < 5
    # Reloaded later: how long is left, then nothing.
    later = location.replace(f"until={until}", f"until={int(time.time()) + 6}")
    assert re.search(r"Please wait about [56] seconds", client.get(later).content.decode())
    over = location.replace(f"until={until}", f"until={int(time.time()) - 1}")
    assert "We checked moments ago" not in client.get(over).content.decode()


def test_check_again_with_this_services_token_refused_is_not_try_again_shortly(
    make_tenant, client, settings
):
    """integrator.io refusing this service's own API token is fixed only by an operator: the
    page said "Please try again shortly", and every "Check again" failed the same way."""
    acme = make_tenant("acme")
    TenantConnection.objects.filter(tenant=acme.tenant, slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="Invalid API key."
    )
    path = connect_link_create(tenant=acme.tenant, sections=list(PORTAL_SECTIONS)).path
    html = client.get(path).content.decode()
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}{acme.tenant.uid}:"
    settings.INTEGRATOR_API_TOKEN = "revoked-service-token"

    answer = client.post(path + "connections/check", {"form_token": _check_token(html, path)})

    page = answer.content.decode()
    assert answer.status_code == 503
    assert "problem on our side" in page
    assert "try again shortly" not in page
    assert "integrator.io" not in page and "revoked-service-token" not in page

"""Ops pages for endpoints and deliveries."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from audit.models import AuditEvent
from core.http_urls import http_url_problem
from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from webhooks import services
from webhooks.models import (
    DeliveryStatus,
    Event,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from webhooks.selectors import endpoints_by_url_check

pytestmark = pytest.mark.django_db


def _secret_shown(response, url: str) -> str:
    """The secret on the page that answers the save, and nowhere the browser keeps it."""
    page = response.content.decode()
    secret = re.search(rf"Signing secret of {re.escape(url)}: <code[^>]*>([^<]+)</code>", page)[1]
    assert secret not in str(response.cookies), "carried in a cookie (the messages' storage)"
    assert "no-store" in response["Cache-Control"]
    return secret


def test_adding_an_endpoint_shows_its_secret_once(admin_client):
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "https://app.example.com/hooks", "description": "", "is_active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    secret = _secret_shown(response, "https://app.example.com/hooks")

    assert secret.startswith("whsec_")
    assert secret not in admin_client.get("/admin/").content.decode()
    change = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert secret not in change.content.decode()
    assert endpoint.event_types == []


def test_replaying_a_dead_delivery_from_the_admin(admin_client):
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    tenant = Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )
    services.endpoint_create(url="https://app.example.com/hooks")
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    WebhookDelivery.objects.update(status=DeliveryStatus.DEAD)
    dead = WebhookDelivery.objects.get()

    listing = admin_client.get("/admin/webhooks/webhookdelivery/", {"status": "dead"})
    admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay", "_selected_action": [dead.pk]},
    )

    assert "Dead-lettered" in listing.content.decode()
    assert WebhookDelivery.objects.filter(event=event, replay_of=dead).count() == 1


def _dead_delivery():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    tenant = Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )
    services.endpoint_create(url="https://app.example.com/hooks")
    services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={"run": "r1"})
    WebhookDelivery.objects.update(status=DeliveryStatus.DEAD)
    return WebhookDelivery.objects.get()


def test_a_delivery_page_is_read_only(admin_client):
    dead = _dead_delivery()

    html = admin_client.get(f"/admin/webhooks/webhookdelivery/{dead.pk}/change/").content.decode()

    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "Dead-lettered" in html


def test_replay_says_how_many_deliveries_in_words(admin_client):
    dead = _dead_delivery()

    response = admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay", "_selected_action": [dead.pk]},
        follow=True,
    )

    assert "Queued 1 delivery again (run.failed for acme)." in response.content.decode()


def test_replaying_an_event_about_no_tenant_names_none(admin_client):
    # integrator.*, orphan.found and rollout.* events have no tenant: "for )" said nothing.
    services.endpoint_create(url="https://app.example.com/hooks")
    services.event_record(tenant=None, event_type=EventType.INTEGRATOR_RECOVERED, data={})
    WebhookDelivery.objects.update(status=DeliveryStatus.DEAD)
    dead = WebhookDelivery.objects.get()

    response = admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay", "_selected_action": [dead.pk]},
        follow=True,
    )

    assert "Queued 1 delivery again (integrator.recovered)." in response.content.decode()


def test_replaying_a_pending_delivery_says_it_is_sent_now(admin_client):
    # A pending delivery is not copied but made due now: "queued again" was not what happened.
    pending = _dead_delivery()
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() + timedelta(hours=1)
    )

    response = admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay", "_selected_action": [pending.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert "Sending 1 delivery now (run.failed for acme), not waiting for its next retry." in html
    assert "Queued" not in html
    assert WebhookDelivery.objects.count() == 1


QUERY_SECRET_URL = "http://h/hook?token=supersecret123"
PATH_SECRET_URL = "https://hooks.slack.com/services/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"


@pytest.mark.parametrize("role", ["viewer_admin", "operator_admin", "administrator_admin"])
def test_it_shows_an_endpoints_url_masked_to_every_role(role, request):
    client = request.getfixturevalue(role)
    by_query = services.endpoint_create(url=QUERY_SECRET_URL).endpoint
    by_path = services.endpoint_create(url=PATH_SECRET_URL).endpoint

    pages = [
        client.get("/admin/webhooks/webhookendpoint/"),
        client.get(f"/admin/webhooks/webhookendpoint/{by_query.pk}/change/"),
        client.get(f"/admin/webhooks/webhookendpoint/{by_path.pk}/change/"),
        client.get(f"/admin/webhooks/webhookendpoint/{by_path.pk}/history/"),
    ]

    html = "".join(page.content.decode() for page in pages)
    assert all(page.status_code == 200 for page in pages)
    assert "supersecret123" not in html and "a1B2c3D4e5F6g7H8i9J0k1L2" not in html
    assert "http://h/hook?token=[REDACTED]" in html
    assert "https://hooks.slack.com/services/[REDACTED]/[REDACTED]/[REDACTED]" in html


SECRET_URLS = {
    "https://hooks.slack.com/services/T000/B000/SLACKPATHSECRET": (
        "https://hooks.slack.com/services/[REDACTED]/[REDACTED]/[REDACTED]"
    ),
    "https://hooks.example.com/services/T000/B000/XXXXSECRETPATH?token=QTOKEN12": (
        "https://hooks.example.com/services/[REDACTED]/[REDACTED]/[REDACTED]?token=[REDACTED]"
    ),
    "https://h.example.com/x?secret=QSECRET1&access_token=QSECRET2&key=QSECRET3&signature=QSIG4": (
        "https://h.example.com/x?secret=[REDACTED]&access_token=[REDACTED]&key=[REDACTED]"
        "&signature=[REDACTED]"
    ),
    "https://h.example.com/y?api_key=QSECRET5&sig=QSIG6": (
        "https://h.example.com/y?api_key=[REDACTED]&sig=[REDACTED]"
    ),
}
SECRETS = ("SLACKPATHSECRET", "XXXXSECRETPATH", "QTOKEN12", "QSECRET", "QSIG")


def test_an_endpoint_added_through_the_api_is_shown_to_a_viewer_with_no_secret(viewer_admin):
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    created = {
        url: api.post("/api/v1/webhooks/endpoints", {"url": url}, format="json")
        for url in SECRET_URLS
    }
    assert all(response.status_code == 201 for response in created.values())
    endpoints = WebhookEndpoint.objects.all()
    events = AuditEvent.objects.filter(action="webhook_endpoint.create")

    pages = [viewer_admin.get("/admin/webhooks/webhookendpoint/")]
    pages += [
        viewer_admin.get(f"/admin/webhooks/webhookendpoint/{e.pk}/change/") for e in endpoints
    ]
    pages += [viewer_admin.get("/admin/audit/auditevent/")]
    pages += [viewer_admin.get(f"/admin/audit/auditevent/{e.pk}/change/") for e in events]

    html = "".join(page.content.decode() for page in pages)
    assert all(page.status_code == 200 for page in pages)
    assert not [secret for secret in SECRETS if secret in html]
    shown = {event.changes["url"]["after"] for event in events}
    assert shown == set(SECRET_URLS.values())
    assert all(masked.replace("&", "&amp;") in html for masked in SECRET_URLS.values())


def test_it_names_an_endpoint_masked_on_its_deliveries(viewer_admin):
    _dead_delivery()
    WebhookEndpoint.objects.update(url=QUERY_SECRET_URL, description="")

    html = viewer_admin.get("/admin/webhooks/webhookdelivery/").content.decode()

    assert "supersecret123" not in html
    assert "token=[REDACTED]" in html


def test_it_does_not_find_endpoints_by_the_secret_in_their_url(viewer_admin):
    services.endpoint_create(url=QUERY_SECRET_URL, description="orders")

    html = viewer_admin.get("/admin/webhooks/webhookendpoint/", {"q": "supersecret"}).content
    found = viewer_admin.get("/admin/webhooks/webhookendpoint/", {"q": "orders"}).content

    assert "0 webhook endpoints" in html.decode()
    assert "token=[REDACTED]" in found.decode()


def test_it_changes_an_endpoint_but_not_its_url_in_the_admin(administrator_admin):
    endpoint = services.endpoint_create(url=QUERY_SECRET_URL).endpoint
    change_url = f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/"

    form = administrator_admin.get(change_url).content.decode()
    response = administrator_admin.post(
        change_url,
        {"url": "https://evil.example/", "description": "orders", "is_active": "on"},
    )

    endpoint.refresh_from_db()
    assert 'name="url"' not in form
    assert response.status_code == 302
    assert (endpoint.url, endpoint.description) == (QUERY_SECRET_URL, "orders")


@pytest.mark.parametrize("how", ["delete page", "bulk action"])
def test_an_administrator_deletes_an_endpoint_that_has_deliveries(administrator_admin, how):
    """An endpoint that has been sent anything has a delivery log, which no role may delete
    by itself; deleting the endpoint takes it along (as the API does), recorded once."""
    endpoint = _dead_delivery().endpoint
    if how == "delete page":
        url = f"/admin/webhooks/webhookendpoint/{endpoint.pk}/delete/"
        page = administrator_admin.get(url).content.decode()
        response = administrator_admin.post(url, {"post": "yes"})
    else:
        url = "/admin/webhooks/webhookendpoint/"
        selected = {"action": "delete_selected", "_selected_action": [str(endpoint.pk)]}
        page = administrator_admin.post(url, selected).content.decode()
        response = administrator_admin.post(url, {**selected, "post": "yes"})

    assert "Cannot delete" not in page
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    events = AuditEvent.objects.filter(target_id=str(endpoint.pk)).exclude(
        action="webhook_endpoint.create"
    )
    assert [(e.action, e.actor_name) for e in events] == [
        ("webhook_endpoint.delete", "ada-administrator")
    ]


def test_rotating_secrets_asks_first_naming_the_endpoints(administrator_admin):
    endpoint = services.endpoint_create(url="https://app.example.com/hooks?token=host-secret")
    salt = endpoint.endpoint.secret_salt

    response = administrator_admin.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [str(endpoint.endpoint.pk)]},
    )

    # One click rotated at once: the secret the host app checks deliveries with stopped
    # working, for good, with no question asked.
    page = response.content.decode()
    assert response.status_code == 200
    assert "Rotate the signing secret of 1 webhook endpoint?" in page
    assert "https://app.example.com/hooks?token=[REDACTED]" in page
    assert "host-secret" not in page
    assert "whsec_" not in page
    assert "keeps signing beside it for 1 day (WEBHOOK_SECRET_ROTATION_GRACE_SECONDS)" in page
    endpoint.endpoint.refresh_from_db()
    assert endpoint.endpoint.secret_salt == salt
    assert not AuditEvent.objects.filter(action="webhook_endpoint.rotate_secret").exists()


def test_the_rotation_question_says_the_old_secret_stops_at_once_without_a_grace_window(
    administrator_admin, settings
):
    settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS = 0
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint

    response = administrator_admin.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)]},
    )

    page = response.content.decode()
    assert "stops working at once (WEBHOOK_SECRET_ROTATION_GRACE_SECONDS is 0)" in page
    assert "keeps signing beside it" not in page


def test_rotating_secrets_shows_each_new_one_once(administrator_admin):
    first = services.endpoint_create(url="https://app.example.com/one").endpoint
    second = services.endpoint_create(url="https://app.example.com/two").endpoint

    response = administrator_admin.post(
        "/admin/webhooks/webhookendpoint/",
        {
            "action": "rotate_secret",
            "_selected_action": [str(first.pk)],
            "select_across": "1",
            "confirmed": f"{first.pk} {second.pk}",
            "post": "yes",
        },
    )

    one = _secret_shown(response, "https://app.example.com/one")
    two = _secret_shown(response, "https://app.example.com/two")
    assert one.startswith("whsec_") and two.startswith("whsec_") and one != two
    assert one not in administrator_admin.get("/admin/").content.decode()


def test_rotating_a_secret_says_until_when_the_old_one_still_signs(administrator_admin, settings):
    settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS = 86400
    endpoint = services.endpoint_create(url="https://app.example.com/one").endpoint

    response = administrator_admin.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)], "post": "yes"},
    )

    endpoint.refresh_from_db()
    until = endpoint.previous_secret_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"the old secret also signs deliveries until {until}" in response.content.decode()
    change = administrator_admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    page = change.content.decode()
    assert "Old secret signs until" in page
    assert endpoint.previous_secret_salt not in page
    listed = administrator_admin.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "Old secret signs until" in listed


@pytest.mark.parametrize("port", ["99999", "0"])
def test_adding_an_endpoint_refuses_a_port_no_request_can_reach(administrator_admin, port):
    response = administrator_admin.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": f"https://app.example.com:{port}/hooks", "description": "", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "Enter a port from 1 to 65535" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@hooks.example.com/x",
        "http://[::1]:9000/hooks",
        "https://hooks..example.com/x",
        f"https://{'a' * 64}.example.com/x",
        "https://-hooks.example.com/x",
        "https://hooks.example.com/é",
        "https://hooks.example.com:99999/x",
        "hooks.example.com/x",
    ],
)
def test_adding_an_endpoint_refuses_what_the_api_refuses_with_its_words(administrator_admin, url):
    # The admin took a user name and password (kept and shown in clear), IPv6 literals and
    # hosts the HTTP client cannot parse, which the API refuses: one check, one message.
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    refused = api.post("/api/v1/webhooks/endpoints", {"url": url}, format="json")
    assert refused.status_code == 400
    message = refused.json()["error"]["fields"]["url"][0]

    response = administrator_admin.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": url, "description": "", "is_active": "on"},
    )

    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_deleting_events_leaves_those_with_a_delivery_log_and_says_so_first(superuser_admin):
    """ "Delete selected events" ended on "Cannot delete events" for any event ever sent to an
    endpoint (no one may delete a delivery by itself): such an event's page offers no Delete,
    and the bulk action asks only about the others, saying which it leaves and why."""
    delivered = _dead_delivery().event
    unsent = services.event_record(tenant=None, event_type=EventType.ORPHAN_FOUND, data={})
    WebhookDelivery.objects.filter(event=unsent).delete()
    url = "/admin/webhooks/event/"
    selected = {"action": "delete_selected", "_selected_action": [delivered.pk, unsent.pk]}

    delivered_page = superuser_admin.get(f"{url}{delivered.pk}/change/").content.decode()
    unsent_page = superuser_admin.get(f"{url}{unsent.pk}/change/").content.decode()
    confirmation = superuser_admin.post(url, selected)
    page = confirmation.content.decode()
    # What its page posts back: the events it asked about.
    done = superuser_admin.post(
        url, {**selected, "_selected_action": [unsent.pk], "post": "yes"}, follow=True
    )

    assert f"{url}{delivered.pk}/delete/" not in delivered_page
    assert f"{url}{unsent.pk}/delete/" in unsent_page
    assert "Cannot delete" not in page
    assert str(unsent.pk) in page and f"{url}{delivered.pk}/change/" not in page
    warned = [str(m) for m in confirmation.context["messages"]]
    assert len(warned) == 1 and warned[0].startswith(f"Not deleted: event {delivered.pk}: ")
    assert [str(m) for m in done.context["messages"]] == ["Successfully deleted 1 event."]
    assert list(Event.objects.values_list("pk", flat=True)) == [delivered.pk]
    assert WebhookDelivery.objects.filter(event=delivered).exists()


def test_deleting_only_delivered_events_deletes_nothing_and_says_why(superuser_admin):
    delivered = _dead_delivery().event

    done = superuser_admin.post(
        "/admin/webhooks/event/",
        {"action": "delete_selected", "_selected_action": [delivered.pk]},
        follow=True,
    )

    notes = [str(m) for m in done.context["messages"]]
    assert len(notes) == 1 and notes[0].startswith(f"Not deleted: event {delivered.pk}"), notes
    assert "delivery log" in notes[0]
    assert "Cannot delete" not in done.content.decode()
    assert Event.objects.filter(pk=delivered.pk).exists()


def _stored_before_the_check(url: str) -> WebhookEndpoint:
    """An endpoint whose URL was stored before core.http_urls was this strict (today's API
    and admin refuse it)."""
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
    endpoint.refresh_from_db()
    return endpoint


def test_an_endpoint_whose_stored_url_fails_the_check_is_marked_and_filtered(admin_client):
    """Such an endpoint was found only when a delivery to it failed: the list and its page
    say what is wrong, and a filter lists every one."""
    bad = _stored_before_the_check("https://app.example.com:99999/hooks")
    good = services.endpoint_create(url="https://ok.example.com/hooks").endpoint
    url = "/admin/webhooks/webhookendpoint/"
    problem = "Enter a port from 1 to 65535 (not 99999), or none."

    listing = admin_client.get(url).content.decode()
    failing = admin_client.get(url, {"url_check": "fails"}).content.decode()
    passing = admin_client.get(url, {"url_check": "passes"}).content.decode()
    page = admin_client.get(f"{url}{bad.pk}/change/").content.decode()
    good_page = admin_client.get(f"{url}{good.pk}/change/").content.decode()

    assert listing.count(escape(problem)) == 1
    assert "Deliveries to it fail" in listing
    assert f"{url}{bad.pk}/change/" in failing and f"{url}{good.pk}/change/" not in failing
    assert f"{url}{good.pk}/change/" in passing and f"{url}{bad.pk}/change/" not in passing
    assert escape(problem) in page and "Deliveries to it fail" in page
    assert "Deliveries to it fail" not in good_page


def test_the_url_check_filter_agrees_with_the_check_the_deliveries_make():
    """The filter reads the pattern in PostgreSQL; a delivery checks in Python."""
    urls = [
        "https://app.example.com/hooks?token=a&b=c#x",
        "http://h:65535/",
        "https://app.example.com.:8443",
        "https://user:pw@app.example.com/h",
        "https://[::1]/h",
        "https://app.example.com:0/h",
        "https://-app.example.com/h",
        f"https://{'a' * 64}.example.com/h",
        "https://app.example.com/h\n",
        "https://app.example.com/a b",
        "ftp://app.example.com/h",
    ]
    endpoints = [_stored_before_the_check(url) for url in urls]

    failing = set(endpoints_by_url_check(WebhookEndpoint.objects.all(), passes=False))
    passing = set(endpoints_by_url_check(WebhookEndpoint.objects.all(), passes=True))

    assert failing == {e for e in endpoints if http_url_problem(e.url) is not None}
    assert passing == {e for e in endpoints if http_url_problem(e.url) is None}
    assert len(passing) == 3


def test_an_operator_sends_a_test_event_to_the_endpoints_selected(operator_admin):
    pinged = services.endpoint_create(url="https://app.example.com/hooks?token=s3cr3t").endpoint
    disabled = services.endpoint_create(url="https://app.example.com/off", is_active=False)
    other = services.endpoint_create(url="https://app.example.com/other").endpoint

    response = operator_admin.post(
        "/admin/webhooks/webhookendpoint/",
        {
            "action": "send_test_event",
            "_selected_action": [str(pinged.pk), str(disabled.endpoint.pk)],
        },
        follow=True,
    )

    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == pinged
    assert delivery.event.event_type == EventType.PING
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()
    page = response.content.decode()
    assert "Queued a test event (ping) for https://app.example.com/hooks?token=[REDACTED]" in page
    assert f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/" in page
    assert "s3cr3t" not in page
    assert "Not sent: endpoint https://app.example.com/off: The endpoint is disabled" in page
    assert AuditEvent.objects.filter(action="webhook_endpoint.ping").count() == 1


def test_a_viewer_is_offered_no_test_event(viewer_admin):
    services.endpoint_create(url="https://app.example.com/hooks")

    page = viewer_admin.get("/admin/webhooks/webhookendpoint/").content.decode()

    assert "send_test_event" not in page


@pytest.mark.django_db
def test_an_endpoint_for_every_event_says_all_on_its_page_as_in_the_list(operator_admin):
    """An endpoint with no event types chosen gets every event: the list said 'all', and its
    page said '-' to those who may not change it (an operator, a viewer), as if it got none."""
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    picky = services.endpoint_create(
        url="https://app.example.com/other", event_types=["tenant.failed", "tenant.active"]
    ).endpoint

    listing = operator_admin.get("/admin/webhooks/webhookendpoint/").content.decode()
    page = operator_admin.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    picky_page = operator_admin.get(f"/admin/webhooks/webhookendpoint/{picky.pk}/change/")

    def types_shown(response):
        pattern = r'Event types:</label>\s*<div class="readonly">([^<]*)</div>'
        return re.search(pattern, response.content.decode()).group(1).strip()

    assert ">all<" in listing
    assert types_shown(page) == "all"
    assert types_shown(picky_page) == "tenant.active, tenant.failed"


def _next_attempt_shown(html: str) -> str:
    label = html.index("Next attempt at:")
    return re.search(r'<div class="readonly">(.*?)</div>', html[label:], re.S)[1].strip()


def test_a_delivery_no_longer_pending_shows_no_next_attempt(admin_client):
    # The column keeps when the last attempt was due: the page said a failed delivery had
    # its next attempt then, where the API says null.
    dead = _dead_delivery()
    page = f"/admin/webhooks/webhookdelivery/{dead.pk}/change/"

    shown_dead = _next_attempt_shown(admin_client.get(page).content.decode())
    WebhookDelivery.objects.filter(pk=dead.pk).update(status=DeliveryStatus.PENDING)
    shown_pending = _next_attempt_shown(admin_client.get(page).content.decode())

    assert shown_dead == "-"
    assert shown_pending != "-" and re.search(r"\d", shown_pending)

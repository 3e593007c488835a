"""Secrets typed into the form appear nowhere: not in pages, logs, or our database."""

import base64
import json
import logging
import threading
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core import serializers

from tenants.models import TenantConnection
from tests.connect.pages import forms_by_slot

WRONG_SHOP_KEY = "wrong-shop-key-7d1e0b"
WRONG_ERP_KEY = "wrong-erp-key-90aa3c"


def database_text() -> str:
    # Every table; an unmanaged model (core.AdminAction, a holder of permissions) has none.
    return "\n".join(
        serializers.serialize("json", model.objects.all())
        for model in apps.get_models()
        if model._meta.managed
    )


def logged_text(caplog) -> str:
    return caplog.text + "\n".join(repr(vars(record)) for record in caplog.records)


def test_no_secret_appears_in_pages_logs_or_the_database(
    acme, issue_link, client, integrator, caplog
):
    caplog.set_level(logging.DEBUG)
    secrets = [
        WRONG_SHOP_KEY,
        WRONG_ERP_KEY,
        integrator.demo_keys["shop"],
        integrator.demo_keys["erp"],
    ]
    path = issue_link(acme).path
    pages = []

    def submit(slot, **values):
        page = client.get(path)
        pages.append(page)
        form = forms_by_slot(page.content.decode())[slot]
        response = client.post(path, form.data(**values))
        pages.append(response)
        if response.status_code == 303:
            pages.append(client.get(response["Location"]))
        return response

    shop_url = integrator.demo_url("shop")
    assert submit("shop", store_url=shop_url, api_key=WRONG_SHOP_KEY).status_code == 200
    assert submit("shop", store_url="bad url", api_key=WRONG_SHOP_KEY).status_code == 200
    assert submit("erp", api_key=WRONG_ERP_KEY, subsidiary="main").status_code == 200
    assert (
        submit("shop", store_url=shop_url, api_key=integrator.demo_keys["shop"]).status_code == 303
    )
    assert submit("erp", api_key=integrator.demo_keys["erp"], subsidiary="main").status_code == 303
    pages.append(client.get(path + "status/"))
    pages.append(client.get(path + "status.json"))

    html = "\n".join(page.content.decode() for page in pages)
    logs = logged_text(caplog)
    stored = database_text()
    assert "did not accept these credentials" in html  # the failures were shown
    for secret in secrets:
        assert secret not in html
        assert secret not in logs
        assert secret not in stored


@pytest.fixture
def echoing_app():
    """A target app that repeats the presented key in its 401 body, as careless APIs do."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            presented = self.headers["Authorization"].split()[-1]
            body = json.dumps({"error": f"no account has the key {presented}"})
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


def test_a_key_echoed_by_the_target_app_is_masked(
    acme, issue_link, client, integrator, echoing_app
):
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]

    response = client.post(path, form.data(store_url=echoing_app, api_key=WRONG_SHOP_KEY))

    html = response.content.decode()
    assert "Shop did not accept these credentials" in html
    assert (
        'Details from Shop: <span lang="en">401 Unauthorized: no account has the key [REDACTED]'
        in html
    )
    assert WRONG_SHOP_KEY not in html
    assert WRONG_SHOP_KEY not in database_text()  # the stored reason is scrubbed too


def test_the_views_mark_every_posted_value_as_sensitive(acme, issue_link, client, integrator):
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]

    response = client.post(path, form.data(store_url="x", api_key=WRONG_SHOP_KEY))

    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"


def test_integrator_io_being_down_is_a_friendly_503(acme, issue_link, client, integrator):
    integrator.control.inject_fault("error", path="/v1/connections/ping", status=503)

    response = _submit_shop(acme, issue_link, client, integrator)

    html = response.content.decode()
    assert response.status_code == 503
    assert "We cannot check credentials right now. Nothing was saved" in html
    assert "integrator.io" not in html
    assert WRONG_SHOP_KEY not in html


def test_integrator_io_limiting_calls_is_try_again_not_contact_support(
    acme, issue_link, client, integrator, settings
):
    # A 429 storm: the platform is answering but not taking our calls for a while. Nothing
    # is wrong with the credentials, so the person is told to try again, as for a 503.
    # A pause of this test's own: the 429's Retry-After would hold whoever shares it.
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}{acme.uid}:"
    integrator.control.inject_fault("rate_limit", path="/v1/*", retry_after=30)

    response = _submit_shop(acme, issue_link, client, integrator)

    html = response.content.decode()
    assert response.status_code == 429
    assert "We cannot check credentials right now. Nothing was saved" in html
    assert "cannot be saved at the moment" not in html
    assert "contact support" not in html
    assert "integrator.io" not in html
    assert WRONG_SHOP_KEY not in html


def _submit_shop(acme, issue_link, client, integrator):
    """The shop slot's form, sent with the demo shop's address and a key."""
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]
    return client.post(
        path, form.data(store_url=integrator.demo_url("shop"), api_key=WRONG_SHOP_KEY)
    )


@pytest.fixture
def answering_app():
    """A target app whose 401 body the test makes from the key presented to it (`answer`)."""
    answer = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            presented = self.headers["Authorization"].split(" ", 1)[-1]
            body = answer["make"](presented).encode("utf-8")
            self.send_response(401)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", answer
    server.shutdown()
    server.server_close()


# A key as some apps issue them (base64's + / =), with a quote: each form below differs from it.
ODD_KEY = 'k3y+Zq/w"8=Rt5x'


@pytest.mark.parametrize(
    ("make", "leak"),
    [
        # echoed with the URL it came in (a key sent in the query string)
        (
            lambda key: f"GET /api/ping?k={quote(key, safe='')} was refused",
            quote(ODD_KEY, safe=""),
        ),
        # echoed inside a JSON string, escaped
        (
            lambda key: json.dumps({"note": "unknown key", "presented": key}),
            json.dumps(ODD_KEY)[1:-1],
        ),
        # echoed in part
        (lambda key: f"the key {key[:-3]}... is unknown", ODD_KEY[:-3]),
        # echoed base64-encoded, as HTTP Basic sends it (`user:key`, or `key:` from curl -u)
        (
            lambda key: f"no user for {base64.b64encode(f'ops:{key}'.encode()).decode()}",
            base64.b64encode(f"ops:{ODD_KEY}".encode()).decode()[4:-4],
        ),
        (
            lambda key: f"credentials {base64.urlsafe_b64encode(f'{key}:'.encode()).decode()}",
            base64.urlsafe_b64encode(f"{ODD_KEY}:".encode()).decode()[:-4],
        ),
    ],
    ids=["url-encoded", "json-escaped", "in-part", "base64-basic", "base64-urlsafe"],
)
def test_a_key_echoed_in_another_form_is_masked_too(
    acme, issue_link, client, integrator, answering_app, make, leak
):
    url, answer = answering_app
    answer["make"] = make
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]

    response = client.post(path, form.data(store_url=url, api_key=ODD_KEY))

    page = unescape(response.content.decode())
    assert "Shop did not accept these credentials" in page
    assert 'Details from Shop: <span lang="en">401 Unauthorized:' in page
    assert leak not in page
    stored = TenantConnection.objects.get(tenant=acme, slot_key="shop").last_ping_error
    assert stored and leak not in stored


def test_an_answer_with_nul_characters_is_shown_not_a_server_error(
    acme, issue_link, client, integrator, answering_app
):
    # PostgreSQL's text refuses NUL: keeping the ping's message made the form answer 500.
    url, answer = answering_app
    answer["make"] = lambda key: "bad\x00key\x00"
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]

    response = client.post(path, form.data(store_url=url, api_key=WRONG_SHOP_KEY))

    assert response.status_code == 200
    assert (
        'Details from Shop: <span lang="en">401 Unauthorized: badkey' in response.content.decode()
    )


def test_a_refused_service_token_is_not_try_again_in_a_minute(
    acme, issue_link, client, integrator, settings
):
    """integrator.io refusing this service's own API token (revoked, expired) is fixed only by
    an operator: the form told the person to "try again in a minute", and every retry failed
    the same way. Nothing is wrong with their credentials, and it is ours to fix."""
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}{acme.uid}:"
    settings.INTEGRATOR_API_TOKEN = "revoked-service-token"

    response = _submit_shop(acme, issue_link, client, integrator)

    html = response.content.decode()
    assert response.status_code == 503
    assert "Nothing was saved" in html
    assert "try again in a minute" not in html
    assert "problem on our side" in html
    assert "integrator.io" not in html and "revoked-service-token" not in html
    assert WRONG_SHOP_KEY not in html

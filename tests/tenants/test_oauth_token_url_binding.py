"""The client secret goes only to the token URL its owner named. The code exchange authenticates
the deployment's OAuth client (basic auth) at a token URL, and the tenant's integrator.io
connection keeps the secret and that URL for its refreshes: a template, which anyone allowed to
edit templates can change, that named another URL would hand the write-only secret to whatever
server it names. The client (its admin record, or its OAUTH_CLIENTS entry) names its token URL;
a slot naming another one is refused before anything is sent, and the record's URL moves only
with its secret typed again."""

import copy
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.test import Client

from tenants.demo_seed import DEMO_OAUTH_TEMPLATE_FILE, demo_template_document
from tenants.errors import OAuthClientInvalid, OAuthNotConfigured, TemplateInvalid
from tenants.models import OAuthClientRecord
from tenants.oauth_clients import oauth_client_record_save, oauth_client_record_secret
from tenants.services import template_validate
from tenants.services.oauth_slots import (
    oauth_authorization_url,
    oauth_client,
    oauth_code_exchange,
)

pytestmark = pytest.mark.django_db

SECRET = "host-crm-secret-5d4c3b2a"
CRM_TEMPLATE = demo_template_document(DEMO_OAUTH_TEMPLATE_FILE)
APP_TOKEN_URL = "https://crm.example.com/oauth/token"


def _collector():
    """A token endpoint that records what it is sent and answers tokens."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append({"authorization": self.headers.get("Authorization"), "body": body})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"access_token": "a-token", "token_type": "Bearer"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def _slot(token_url: str) -> dict:
    return {
        "key": "crm",
        "kind": "oauth",
        "connection_type": "http",
        "oauth": {
            "client": "crm",
            "authorize_url": "https://crm.example.com/oauth/authorize",
            "token_url": token_url,
        },
    }


@pytest.fixture
def elsewhere():
    server, received = _collector()
    yield f"http://127.0.0.1:{server.server_port}/token", received
    server.shutdown()


def _refused_everywhere(slot, received):
    with pytest.raises(OAuthNotConfigured, match="token URL"):
        oauth_authorization_url(slot=slot, state="s", challenge="c", redirect_uri="http://x/cb")
    with pytest.raises(OAuthNotConfigured, match="token URL"):
        oauth_code_exchange(slot=slot, code="code", verifier="verifier", redirect_uri="http://x/cb")
    assert received == [], "the client and its secret were sent to the template's URL"


def test_a_template_naming_another_token_url_gets_no_secret_from_the_setting(settings, elsewhere):
    url, received = elsewhere
    settings.OAUTH_CLIENTS = {
        "crm": {"client_id": "cid", "client_secret": SECRET, "token_url": APP_TOKEN_URL}
    }
    _refused_everywhere(_slot(url), received)
    assert oauth_client(_slot(APP_TOKEN_URL)).token_url == APP_TOKEN_URL


def test_a_template_naming_another_token_url_gets_no_secret_from_the_record(settings, elsewhere):
    url, received = elsewhere
    settings.OAUTH_CLIENTS = {}
    oauth_client_record_save(
        provider_key="crm", client_id="cid", client_secret=SECRET, token_url=APP_TOKEN_URL
    )
    _refused_everywhere(_slot(url), received)
    assert oauth_client(_slot(APP_TOKEN_URL)).client_secret == SECRET


def test_a_client_that_names_no_token_url_sends_its_secret_nowhere(settings, elsewhere):
    url, received = elsewhere
    settings.OAUTH_CLIENTS = {"crm": {"client_id": "cid", "client_secret": SECRET}}
    _refused_everywhere(_slot(url), received)


def test_the_exchange_posts_to_the_clients_token_url(settings, elsewhere):
    url, received = elsewhere
    settings.OAUTH_CLIENTS = {
        "crm": {"client_id": "cid", "client_secret": SECRET, "token_url": url}
    }
    tokens = oauth_code_exchange(
        slot=_slot(url), code="code", verifier="verifier", redirect_uri="http://x/cb"
    )
    assert tokens.access_token == "a-token" and len(received) == 1


def test_the_records_token_url_moves_only_with_its_secret(settings):
    record = oauth_client_record_save(
        provider_key="crm", client_id="cid", client_secret=SECRET, token_url=APP_TOKEN_URL
    )
    with pytest.raises(OAuthClientInvalid, match="secret"):
        oauth_client_record_save(
            provider_key="crm", client_id="cid", token_url="https://attacker.example/token"
        )
    record.refresh_from_db()
    assert record.token_url == APP_TOKEN_URL

    moved = "https://auth.crm.example.com/token"
    oauth_client_record_save(
        provider_key="crm", client_id="cid", client_secret="new-secret", token_url=moved
    )
    record.refresh_from_db()
    assert record.token_url == moved and oauth_client_record_secret(record) == "new-secret"
    # The client id alone still changes without the secret.
    oauth_client_record_save(provider_key="crm", client_id="renamed")
    assert OAuthClientRecord.objects.get().token_url == moved


def test_the_admin_refuses_a_new_token_url_without_the_secret():
    record = oauth_client_record_save(
        provider_key="crm", client_id="cid", client_secret=SECRET, token_url=APP_TOKEN_URL
    )
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(admin)
    path = f"/admin/tenants/oauthclientrecord/{record.pk}/change/"
    answer = browser.post(
        path,
        {"client_id": "cid", "token_url": "https://attacker.example/token", "client_secret": ""},
    )
    assert answer.status_code == 200
    assert "Type the client secret again" in answer.content.decode()
    record.refresh_from_db()
    assert record.token_url == APP_TOKEN_URL

    answer = browser.post(
        path,
        {
            "client_id": "cid",
            "token_url": "https://auth.crm.example.com/token",
            "client_secret": "s2",
        },
    )
    assert answer.status_code == 302
    record.refresh_from_db()
    assert record.token_url == "https://auth.crm.example.com/token"
    # The list says where each client's secret goes.
    listing = browser.get("/admin/tenants/oauthclientrecord/").content.decode()
    assert "https://auth.crm.example.com/token" in listing


# A template may move the tokens (`oauth.maps`), but not the client's secret or token URL:
# mapped to the connection's bearer token, the secret would go with integrator.io's ping to
# whatever base URI the template names; the token URL moved elsewhere would leave a token URL
# of the template's own in the connection, for integrator.io's refreshes to send the secret to.
MOVED_CLIENT = [
    {"client_secret": "http.auth.token.token", "access_token": "http.auth.token.other"},
    {"token_url": "http.unencrypted.tokenURI"},
    # Written after the token URL, the template's scopes would take its place.
    {"scope": "http.auth.oauth.tokenURI"},
]


@pytest.mark.parametrize("maps", MOVED_CLIENT)
def test_a_template_cannot_move_the_clients_secret_or_token_url(maps):
    slots = copy.deepcopy(CRM_TEMPLATE["slots"])
    slots[0]["oauth"]["maps"] = maps
    with pytest.raises(TemplateInvalid) as raised:
        template_validate(slots=slots, settings_schema=CRM_TEMPLATE["settings_schema"])
    [moved] = [name for name in maps if name != "access_token"]
    assert f"slots.0.oauth.maps.{moved}" in raised.value.fields, raised.value.fields


@pytest.mark.parametrize("maps", MOVED_CLIENT)
def test_a_stored_slot_that_moves_them_is_refused_before_anything_is_sent(
    settings, elsewhere, maps
):
    url, received = elsewhere
    settings.OAUTH_CLIENTS = {
        "crm": {"client_id": "cid", "client_secret": SECRET, "token_url": url}
    }
    slot = _slot(url)
    slot["oauth"] = {**slot["oauth"], "maps": maps}
    with pytest.raises(OAuthNotConfigured, match="may not move them"):
        oauth_authorization_url(slot=slot, state="s", challenge="c", redirect_uri="http://x/cb")
    with pytest.raises(OAuthNotConfigured, match="may not move them"):
        oauth_code_exchange(slot=slot, code="code", verifier="verifier", redirect_uri="http://x/cb")
    assert received == []


def test_start_up_warns_of_a_setting_client_without_its_token_url(settings):
    settings.OAUTH_CLIENTS = {
        "crm": {"client_id": "cid", "client_secret": SECRET},
        "erp": {"client_id": "cid", "client_secret": SECRET, "token_url": APP_TOKEN_URL},
    }
    warnings = [m for m in checks.run_checks() if m.id == "tenants.W001"]
    assert len(warnings) == 1 and "OAUTH_CLIENTS['crm']" in warnings[0].msg
    assert SECRET not in warnings[0].msg + warnings[0].hint

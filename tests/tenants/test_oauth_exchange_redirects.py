"""The code exchange posts the code and the PKCE verifier (and, to the same host, the client
secret) to the client's token URL. `requests` follows a 307 or 308 with the same body: an
answer redirecting elsewhere would hand the code and the verifier to whatever server it names.
A token endpoint answers; it does not redirect (RFC 6749 section 3.2), so a redirect is a
failed exchange and nothing is sent on."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tenants.services.oauth_slots import OAuthExchangeFailed, oauth_code_exchange
from tests.fixtures.crm_oauth import DEMO_OAUTH_CLIENTS

pytestmark = pytest.mark.django_db


def _server(handler_body):
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            handler_body(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def test_a_token_endpoint_that_redirects_fails_and_the_code_goes_nowhere_else(settings):
    def tokens(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"access_token": "a-token", "token_type": "Bearer"}')

    elsewhere, elsewhere_received = _server(tokens)

    def redirect(handler):
        handler.send_response(307)
        handler.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}/token")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    token_endpoint, token_received = _server(redirect)
    token_url = f"http://127.0.0.1:{token_endpoint.server_port}/token"
    settings.OAUTH_CLIENTS = {"crm": {**DEMO_OAUTH_CLIENTS["crm"], "token_url": token_url}}
    slot = {"key": "crm", "oauth": {"client": "crm", "token_url": token_url}}
    try:
        with pytest.raises(OAuthExchangeFailed, match="307"):
            oauth_code_exchange(
                slot=slot, code="the-code", verifier="the-verifier", redirect_uri="http://x/cb"
            )
    finally:
        token_endpoint.shutdown()
        elsewhere.shutdown()

    assert len(token_received) == 1 and b"the-verifier" in token_received[0]
    assert elsewhere_received == [], "the code and the verifier were sent on"

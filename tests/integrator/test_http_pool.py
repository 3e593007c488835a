"""The transport's HTTP: the environment's proxy and CA bundle when trusted (INTEGRATOR_TRUST_ENV),
through a real forward proxy; and the Link header's next page."""

import base64
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import certifi
import pytest
import urllib3

from integrator import ConnectionFailedError, IntegratorClient, UnexpectedResponseError
from integrator.http_pool import build_pool, ca_bundle, proxy_for
from integrator.transport import next_link
from tests.integrator.conftest import closed_port

HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


class ForwardProxy:
    """A plain HTTP forward proxy on a free port that records what passed through it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                proxy.seen.append(
                    (self.command, self.path, self.headers.get("Proxy-Authorization"))
                )
                target = urlsplit(self.path)  # a proxy is sent the absolute URL
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                path = target.path + (f"?{target.query}" if target.query else "")
                upstream.request(self.command, path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"transfer-encoding", "content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def forward_proxy():
    proxy = ForwardProxy()
    yield proxy
    proxy.close()


@pytest.fixture
def no_proxy_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_a_trusted_environment_sends_the_calls_through_its_proxy(
    control, target, forward_proxy, no_proxy_environment
):
    user_and_password = "egress:p@ss:w0rd"
    proxy_url = forward_proxy.url.replace("://", "://egress:p%40ss%3Aw0rd@")
    no_proxy_environment.setenv("HTTP_PROXY", proxy_url)

    with IntegratorClient(target.api_url, target.token, trust_env=True) as client:
        client.get_token_info()

    expected_auth = "Basic " + base64.b64encode(user_and_password.encode()).decode()
    assert forward_proxy.seen == [("GET", f"{target.api_url}/tokenInfo", expected_auth)]


def test_without_trust_the_proxy_of_the_environment_is_not_used(
    control, target, forward_proxy, no_proxy_environment
):
    no_proxy_environment.setenv("HTTP_PROXY", forward_proxy.url)

    with IntegratorClient(target.api_url, target.token) as client:
        client.get_token_info()

    assert forward_proxy.seen == []


def test_no_proxy_naming_the_api_host_bypasses_the_proxy(
    control, target, forward_proxy, no_proxy_environment
):
    no_proxy_environment.setenv("HTTP_PROXY", forward_proxy.url)
    no_proxy_environment.setenv("NO_PROXY", f"example.com,{urlsplit(target.api_url).hostname}")

    with IntegratorClient(target.api_url, target.token, trust_env=True) as client:
        client.get_token_info()

    assert forward_proxy.seen == []


def test_a_proxy_that_cannot_be_reached_means_the_request_never_left(
    control, target, no_proxy_environment
):
    # So a create (POST) is an ordinary connection failure, safe to send again, and not an
    # outcome nobody knows.
    no_proxy_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    client = IntegratorClient(target.api_url, target.token, trust_env=True, max_attempts=1)

    with client, pytest.raises(ConnectionFailedError) as caught:
        client.create_integration({"name": "never sent"})

    assert caught.value.sent is False
    assert control.objects("integrations")["objects"]["integrations"] == []


def test_the_proxy_comes_from_the_url_scheme_and_no_proxy_list():
    environ = {
        "HTTPS_PROXY": "http://upper.internal:3128",
        "https_proxy": "http://lower.internal:3128",
        "HTTP_PROXY": "plain.internal:8080",
        "NO_PROXY": "eu.integrator.io",
    }
    assert proxy_for("https://api.integrator.io/v1", environ) == "http://lower.internal:3128"
    assert proxy_for("http://api.integrator.io/v1", environ) == "http://plain.internal:8080"
    assert proxy_for("https://api.eu.integrator.io/v1", environ) is None
    assert proxy_for("https://api.integrator.io/v1", {"ALL_PROXY": "http://all:1"}) == (
        "http://all:1"
    )
    assert proxy_for("https://api.integrator.io/v1", {}) is None


def test_the_ca_bundle_of_the_environment_counts_only_when_trusted():
    environ = {"REQUESTS_CA_BUNDLE": "/etc/company/ca.pem"}
    assert ca_bundle(trust_env=True, environ=environ) == "/etc/company/ca.pem"
    assert ca_bundle(trust_env=True, environ={"CURL_CA_BUNDLE": "/c.pem"}) == "/c.pem"
    assert ca_bundle(trust_env=False, environ=environ) == certifi.where()
    assert ca_bundle(trust_env=True, environ={}) == certifi.where()


def test_the_pool_goes_through_a_proxy_only_when_trusted_and_named():
    environ = {"HTTPS_PROXY": "http://proxy.internal:3128"}
    url = "https://api.integrator.io/v1"

    proxied = build_pool(url, pool_maxsize=8, trust_env=True, environ=environ)

    assert isinstance(proxied, urllib3.ProxyManager)
    assert proxied.proxy.host == "proxy.internal"
    for direct in (
        build_pool(url, pool_maxsize=8, trust_env=False, environ=environ),
        build_pool(url, pool_maxsize=8, trust_env=True, environ={}),
    ):
        assert type(direct) is urllib3.PoolManager


class Redirecting(BaseHTTPRequestHandler):
    """Answers every request with a redirect to `elsewhere`, which records what reaches it."""

    elsewhere: str = ""
    reached: list = []

    def do_GET(self) -> None:
        if self.path.startswith("/elsewhere"):
            Redirecting.reached.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            return
        self.send_response(307)
        self.send_header("Location", f"{Redirecting.elsewhere}/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    Redirecting.elsewhere = f"http://127.0.0.1:{server.server_port}"
    Redirecting.reached = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = IntegratorClient(f"{Redirecting.elsewhere}/v1", "a-token", max_attempts=1)

    with client, pytest.raises(UnexpectedResponseError) as caught:
        client.get_token_info()

    server.shutdown()
    server.server_close()
    assert caught.value.status == 307
    assert Redirecting.reached == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://api.integrator.io/v1/jobs?page=2>; rel="next"',
            "https://api.integrator.io/v1/jobs?page=2",
        ),
        ("</v1/flows?after=a,b>; rel=next", "/v1/flows?after=a,b"),
        ('</v1/a?p=1>; rel="prev", </v1/a?p=3>; rel="next"', "/v1/a?p=3"),
        ('</v1/a?p=3>; title="x"; REL="Next"', "/v1/a?p=3"),
        ('</v1/a?p=1>; rel="prev"', None),
        ("", None),
        (None, None),
    ],
)
def test_the_next_page_is_read_from_the_link_header(header, expected):
    assert next_link(header) == expected

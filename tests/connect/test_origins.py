"""The origin checks that decide where the forms may be framed and posted from
(connect.embedding), without a browser."""

from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from connect.embedding import origin_of, post_origin_allowed, return_url_allowed, tenant_origins

TENANT = SimpleNamespace(
    allowed_origins=["https://App.Example.com/", "https://app.example.com", "javascript:x", 7]
)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://app.example.com/path?q=1", "https://app.example.com"),
        ("HTTPS://APP.example.com", "https://app.example.com"),
        ("https://app.example.com:443/x", "https://app.example.com"),
        ("http://app.example.com:80", "http://app.example.com"),
        ("http://localhost:8300/", "http://localhost:8300"),
        ("https://bücher.example/shop", "https://xn--bcher-kva.example"),
        ("ftp://app.example.com", None),
        ("javascript:alert(1)", None),
        ("https://", None),
        ("https://app.example.com:99999", None),
        # Not the default port's origin: none at all (no page is served from port 0).
        ("https://app.example.com:0", None),
        ("https://app.example.com;frame-ancestors *", None),
        ("", None),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def test_a_tenants_origins_are_normalised_once_and_junk_dropped():
    assert tenant_origins(TENANT) == ["https://app.example.com"]


def test_a_return_url_must_be_on_an_allowed_origin():
    assert return_url_allowed(url="https://app.example.com/settings?x", tenant=TENANT)
    assert not return_url_allowed(url="https://evil.example.com/", tenant=TENANT)
    assert not return_url_allowed(url="", tenant=TENANT)


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"HTTP_ORIGIN": "http://testserver"}, True),
        ({"HTTP_ORIGIN": "https://app.example.com"}, True),
        ({"HTTP_ORIGIN": "https://evil.example.com"}, False),
        ({"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "same-origin"}, True),
        ({"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "cross-site"}, False),
        ({"HTTP_SEC_FETCH_SITE": "same-site"}, False),
        ({}, True),
    ],
)
def test_a_post_comes_from_our_page_or_an_allowed_origin(headers, allowed):
    request = RequestFactory().post("/connect/x", **headers)
    assert post_origin_allowed(request, tenant=TENANT) is allowed


def test_a_refused_post_says_why_for_the_host_apps_developer(caplog):
    # A careless host frames the form in an iframe sandboxed without allow-same-origin: its
    # posts say `Origin: null` and `Sec-Fetch-Site: cross-site`, and were refused with no
    # word of why.
    sandboxed = RequestFactory().post(
        "/connect/x", HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="cross-site"
    )
    foreign = RequestFactory().post("/connect/x", HTTP_ORIGIN="https://evil.example.com")

    assert not post_origin_allowed(sandboxed, tenant=TENANT)
    assert not post_origin_allowed(foreign, tenant=TENANT)

    said = [record.getMessage() for record in caplog.records]
    assert any("sandboxed without allow-same-origin" in line for line in said)
    assert any("'https://evil.example.com'" in line for line in said)

"""A post too large (or with too many fields) for Django to read: the connect pages answer it
with their own page, branded, in the link's language and framable by the tenant's origins,
without a traceback in the log (Django's own 400 page is unbranded, English, DENY-framed, and
with DEBUG on shows the settings)."""

import logging

import pytest
from django.conf import settings

from tests.connect.conftest import ACME_ORIGIN
from tests.connect.test_embedding_headers import csp_directives

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
TOO_MANY_FIELDS = "a=b&" * 5000
TOO_LARGE = "store_url=" + "x" * (3 * 1024 * 1024)


def oversized_post(client, url, body):
    return client.post(url, data=body, content_type=FORM, HTTP_ORIGIN=ACME_ORIGIN)


def assert_our_page(response, status, caplog):
    assert response.status_code == status
    html = response.content.decode()
    assert settings.CONNECT_PRODUCT_NAME in html
    assert csp_directives(response)["frame-ancestors"] == ACME_ORIGIN
    assert "X-Frame-Options" not in response.headers
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    return html


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (TOO_MANY_FIELDS, 400, "It held more fields than this page sends."),
        (TOO_LARGE, 413, "It was larger than this page sends."),
    ],
    ids=["too-many-fields", "too-large"],
)
def test_the_credential_form_answers_with_its_own_page(
    acme, issue_link, client, caplog, body, status, says
):
    path = issue_link(acme).path

    response = oversized_post(client, path, body)

    html = assert_our_page(response, status, caplog)
    assert says in html and "Nothing was saved." in html
    assert f'href="{path}"' in html  # back to the form


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_form_body_that_is_not_utf8_is_answered_with_our_page(
    acme, issue_link, client, caplog, settings, debug
):
    # Django refuses to decode `application/x-www-form-urlencoded; charset=utf-16` (BadRequest):
    # its own answer was an unbranded 400 page, and with DEBUG on a 500 (the debug page read the
    # body again to show it).
    settings.DEBUG = debug
    path = issue_link(acme).path

    # generic(): post() would encode the body itself, in the charset the type names.
    response = client.generic(
        "POST",
        path,
        "slot=shop".encode("utf-16"),
        content_type=f"{FORM}; charset=utf-16",
        HTTP_ORIGIN=ACME_ORIGIN,
    )

    html = assert_our_page(response, 400, caplog)
    assert "It was not sent the way this page sends it." in html

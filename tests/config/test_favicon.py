"""Browsers ask every site for /favicon.ico (and the customer's pages in their tab): they get
the service's icon, not a 404 on every page."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders


def test_the_favicon_is_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    # The static file it names (whitenoise serves it; the test client has no static files).
    icon = Path(finders.find("favicon.ico")).read_bytes()
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.django_db
def test_the_customers_pages_the_admin_and_the_home_page_name_it(client):
    # Named, the browser takes it from the static files at once, without the redirect.
    for path in ("/connect/not-a-link/", "/admin/login/", "/"):
        page = client.get(path).content.decode()
        assert '<link rel="icon" href="/static/favicon.ico">' in page, path

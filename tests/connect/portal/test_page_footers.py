"""Each customer page's footer is about that page: the credential form's note on where
credentials go is for the pages that take them, not for a missing run or a dead link."""

import re
from datetime import timedelta

from django.utils import timezone

from tenants.connect_links import connect_link_create, connect_link_revoke
from tenants.models import ConnectLink

CREDENTIALS_NOTE = "Credentials go"


def _footer(response) -> str:
    html = response.content.decode()
    return re.search(r'<footer class="fine-print">(.*?)</footer>', html, re.S).group(1)


def test_pages_that_take_no_credentials_say_nothing_of_them(acme, portal_link, client):
    portal = portal_link(acme).path
    runs_hidden = portal_link(acme, sections=["settings"]).path
    expired = connect_link_create(tenant=acme)
    ConnectLink.objects.filter(pk=expired.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = connect_link_create(tenant=acme)
    connect_link_revoke(link=revoked.link)

    pages = {
        "run not found": client.get(f"{portal}runs/no-such-run/"),
        "runs not shown": client.get(f"{runs_hidden}runs/flow-orders-job-0/"),
        "expired link": client.get(expired.path),
        "revoked link": client.get(revoked.path),
        "unknown link": client.get("/connect/not-a-token/"),
    }

    for name, response in pages.items():
        assert response.status_code in (404, 410), name
        assert CREDENTIALS_NOTE not in _footer(response), name


def test_the_credential_form_and_its_status_page_keep_their_note(acme, client):
    path = connect_link_create(tenant=acme).path

    assert CREDENTIALS_NOTE in _footer(client.get(path))
    assert CREDENTIALS_NOTE in _footer(client.get(path + "status/"))

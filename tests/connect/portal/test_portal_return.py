"""The way back to the host app from the integration page: a link made with `return_url`
offers it, as the setup's status page does, so that a customer who reached the page in the
whole window (a link sent to them, or a consent the browser would not open in a popup) is not
left there."""

from tenants.connect_links import PORTAL_SECTIONS, connect_link_create
from tenants.models import Tenant
from tests.connect.conftest import ACME_ORIGIN

BACK = f"{ACME_ORIGIN}/settings/integrations"


def _portal(tenant, **options):
    return connect_link_create(tenant=tenant, sections=list(PORTAL_SECTIONS), **options).path


def test_a_link_with_a_return_url_offers_the_way_back(acme, client):
    html = client.get(_portal(acme, return_url=BACK)).content.decode()

    assert f'href="{BACK}" target="_top" rel="noreferrer">Continue</a>' in html
    assert "Takes you back to where you started." in html


def test_read_only_and_in_german_too(acme, client):
    html = client.get(_portal(acme, return_url=BACK, read_only=True, locale="de")).content
    html = html.decode()

    assert f'href="{BACK}" target="_top" rel="noreferrer">Weiter</a>' in html
    assert "Bringt Sie dorthin zurück, wo Sie begonnen haben." in html


def test_no_return_url_no_button(acme, client):
    html = client.get(_portal(acme)).content.decode()

    assert "Takes you back to where you started." not in html


def test_a_return_url_no_longer_on_the_tenants_origins_is_not_offered(acme, client):
    path = _portal(acme, return_url=BACK)
    Tenant.objects.filter(pk=acme.pk).update(allowed_origins=["https://elsewhere.example"])

    html = client.get(path).content.decode()

    assert BACK not in html

"""Fixtures of the credential form tests: a template whose two slots point at the sandbox's
demo apps, two tenants (personas), links, and a client that enforces CSRF checks and never
keeps a cookie.

Personas:
- `acme`: the tenant whose user fills in the form; embeds the form on https://app.acme.test.
- `globex`: another tenant of the same host app; nothing of it may ever be seen or changed
  through acme's links (and the other way round).
"""

from datetime import timedelta

import pytest
from django.test import Client

from sandbox.seed import DEMO_ERP_CONNECTION_ID, DEMO_INTEGRATION_ID, DEMO_SHOP_CONNECTION_ID
from tenants.connect_links import connect_link_create
from tenants.services import template_load, tenant_create
from tests.connect.pages import ConnectPages

ACME_ORIGIN = "https://app.acme.test"
GLOBEX_ORIGIN = "https://portal.globex.test"


def demo_template_document(sandbox_server) -> dict:
    """Shop (URL + key in a header) and ERP (key in the query, a select and a number)."""
    return {
        "key": "shop-erp",
        "name": "Shop to ERP order sync",
        "description": "Sends paid orders and new customers from your shop to your ERP.",
        "source_integration_id": DEMO_INTEGRATION_ID,
        "version": "1",
        "settings_schema": {"type": "object", "properties": {}},
        "slots": [
            {
                "key": "shop",
                "label": "Shop",
                "description": "Your online store, where the orders come from.",
                "connection_type": "http",
                "template_connection_id": DEMO_SHOP_CONNECTION_ID,
                "connection": {
                    "http": {
                        "mediaType": "json",
                        "ping": {"relativeURI": "/ping", "method": "GET"},
                        "auth": {
                            "type": "token",
                            "token": {
                                "location": "header",
                                "headerName": "Authorization",
                                "scheme": "Bearer",
                            },
                        },
                    }
                },
                "fields": [
                    {
                        "name": "store_url",
                        "label": "Store API address",
                        "help_text": "Shown in your store admin under Settings, API access.",
                        "placeholder": "https://shop.example.com/api",
                        "kind": "url",
                        "required": True,
                        "maps_to": "http.baseURI",
                    },
                    {
                        "name": "api_key",
                        "label": "API key",
                        "help_text": "Create one with read access to orders and customers.",
                        "kind": "password",
                        "required": True,
                        "maps_to": "http.auth.token.token",
                    },
                ],
            },
            {
                "key": "erp",
                "label": "ERP",
                "description": "Your back office, where orders are billed.",
                "connection_type": "http",
                "template_connection_id": DEMO_ERP_CONNECTION_ID,
                "connection": {
                    "http": {
                        "baseURI": sandbox_server.demo_url("erp"),
                        "mediaType": "json",
                        "ping": {"relativeURI": "/ping", "method": "GET"},
                        "auth": {
                            "type": "token",
                            "token": {"location": "url", "paramName": "api_key"},
                        },
                    }
                },
                "fields": [
                    {
                        "name": "api_key",
                        "label": "API key",
                        "kind": "password",
                        "required": True,
                        "maps_to": "http.auth.token.token",
                    },
                    {
                        "name": "subsidiary",
                        "label": "Subsidiary",
                        "kind": "select",
                        "required": True,
                        "choices": [
                            {"value": "main", "label": "Main company"},
                            {"value": "eu", "label": "EU subsidiary"},
                        ],
                        "maps_to": "http.unencrypted.subsidiary",
                    },
                    {
                        "name": "concurrency",
                        "label": "Parallel requests",
                        "kind": "number",
                        "required": False,
                        "min": 1,
                        "max": 5,
                        "maps_to": "http.concurrencyLevel",
                    },
                ],
            },
        ],
    }


@pytest.fixture(autouse=True)
def connect_settings(settings):
    settings.CONNECT_PRODUCT_NAME = "Northwind"
    return settings


@pytest.fixture
def integrator(settings, sandbox_clean):
    """The service talks to a freshly reset sandbox."""
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    return sandbox_clean


@pytest.fixture
def template(db, sandbox):
    loaded, _ = template_load(document=demo_template_document(sandbox))
    return loaded


@pytest.fixture
def acme(template):
    tenant, _ = tenant_create(
        external_id="acme", name="Acme Corp", template=template, allowed_origins=[ACME_ORIGIN]
    )
    return tenant


@pytest.fixture
def globex(template):
    tenant, _ = tenant_create(
        external_id="globex",
        name="Globex Inc",
        template=template,
        allowed_origins=[GLOBEX_ORIGIN],
    )
    return tenant


@pytest.fixture
def issue_link():
    def issue(tenant, *, slot_key="", return_url="", expires_in=timedelta(minutes=30)):
        return connect_link_create(
            tenant=tenant, slot_key=slot_key, return_url=return_url, expires_in=expires_in
        )

    return issue


@pytest.fixture
def client():
    """A browser without cookies (as inside a cross-site iframe) and with CSRF enforced."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def pages(client):
    return ConnectPages(client)


# The real-browser tests' host app and provisioning worker.
from tests.fixtures.host_app import host_app, provisioning_worker  # noqa: E402, F401

"""Named personas for API tests: a host app with a valid key, one whose key was revoked, an
anonymous caller, and two tenants of one template (acme and globex).

tests/tenants/conftest.py and tests/api/conftest.py import these fixtures.
"""

import pytest
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from tests.tenants.factories import IntegrationTemplateFactory, TenantFactory


@pytest.fixture
def host_key(db) -> str:
    _, key = APIKey.objects.create_key(name="host app")
    return key


@pytest.fixture
def revoked_key(db) -> str:
    api_key, key = APIKey.objects.create_key(name="old host app key")
    api_key.revoked = True
    api_key.save()
    return key


@pytest.fixture
def api(host_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {host_key}")
    return client


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()


@pytest.fixture
def template(db):
    return IntegrationTemplateFactory(key="shop-to-erp", name="Shop to ERP order sync")


@pytest.fixture
def acme(template):
    return TenantFactory(external_id="acme", name="Acme Ltd", template=template)


@pytest.fixture
def globex(template):
    return TenantFactory(external_id="globex", name="Globex Corp", template=template)

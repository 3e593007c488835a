import pytest

from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from tests.fixtures.live_tenants import (  # noqa: F401
    account,
    live_settings,
    live_worker,
    make_tenant,
    runs_client,
)
from tests.webhooks.receiver import Receiver


@pytest.fixture
def tenant():
    """A tenant of a one-version template, awaiting credentials (files that need another
    status define their own)."""
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )


@pytest.fixture
def receiver():
    """A receiver that answers 200 to everything (tests set `.script` for more)."""
    server = Receiver()
    yield server
    server.stop()

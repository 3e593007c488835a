"""Property-based: schemathesis generates requests for every operation from the OpenAPI
document (valid and invalid ones) and sends them over real HTTP to a live server. No answer
may be a 5xx, and every answer must match what the document promises."""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.tenants.factories import TenantFactory

# Built at collection: generating the document only introspects the views.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.config.generation.update(max_examples=25)


@pytest.fixture
def api_world(transactional_db, live_server, host_key, template, sandbox_clean, settings):
    # Credentials PUT calls integrator.io: the sandbox. Its slot only accepts loopback URLs
    # here, so that no generated value can make the sandbox ping a host on the network.
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    for slot in template.slots:
        for field in slot["fields"]:
            if field["kind"] == "url":
                field["pattern"] = r"http://127\.0\.0\.1:\d+/.*"
    template.save()
    # The document's examples name these, so the explicit phase reaches real rows.
    TenantFactory(external_id="acme", template=template)
    TenantFactory(external_id="acme-42", template=template)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_never_answers_5xx(case, api_world, live_server, host_key):
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Api-Key {host_key}"},
        timeout=30,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )

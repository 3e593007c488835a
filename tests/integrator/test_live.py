"""Contract checks that only mean something against a real integrator.io account.

Run with INTEGRATOR_LIVE_URL (e.g. https://api.integrator.io/v1) and INTEGRATOR_LIVE_TOKEN.
Read-only: they confirm the shapes the client and the sandbox assume.
"""

import re

import pytest

from integrator import AuthenticationError, IntegratorClient, NotFoundError

pytestmark = pytest.mark.live
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def test_it_reads_the_token_owner(client):
    assert OBJECT_ID.match(client.get_token_info().user_id)


def test_it_reads_the_undocumented_404_and_401_bodies_as_typed_errors(client, target):
    with pytest.raises(NotFoundError) as not_found:
        client.get_integration("0" * 24)
    unauthorized = IntegratorClient(target.api_url, "0" * 32)
    with unauthorized, pytest.raises(AuthenticationError):
        unauthorized.get_token_info()
    assert not_found.value.status == 404


def test_it_reads_lists_and_projections(client):
    integrations = client.list_integrations(include=["version"])
    assert all(OBJECT_ID.match(i.id) for i in integrations)
    assert all(set(i.raw) <= {"_id", "name", "version"} for i in integrations)
    if integrations:
        flows = client.list_integration_flows(integrations[0].id)
        for flow in flows[:3]:
            assert client.get_flow(flow.id).integration_id == integrations[0].id
            jobs = client.list_jobs(flow_id=flow.id)
            assert all(job.flow_id == flow.id for job in jobs)

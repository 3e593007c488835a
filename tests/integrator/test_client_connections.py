"""Connections: CRUD, lists (Link pages, 204), pings (both failure shapes), masked secrets."""

import pytest

from integrator import MaskedSecretError, NotFoundError, ValidationError
from tests.integrator.conftest import http_connection

SECRET = "tenant-secret-4f1c9a"


def test_it_creates_reads_updates_and_deletes_a_connection(client, fresh_sandbox, writes):
    created = client.create_connection(http_connection("Tenant shop", secret=SECRET))
    try:
        assert created.type == "http"
        assert created.raw["http"]["auth"]["token"]["token"] == "******"

        fetched = client.get_connection(created.id)
        assert (fetched.id, fetched.name) == (created.id, "Tenant shop")
        assert created.id in [connection.id for connection in client.list_connections()]

        body = http_connection("Tenant shop (renamed)", secret="rotated-secret-77")
        updated = client.update_connection(created.id, body)
        assert updated.name == "Tenant shop (renamed)"
        if fresh_sandbox:  # the stored secret is only visible through the sandbox
            stored = fresh_sandbox.objects("connections", reveal=True)["objects"]["connections"]
            assert stored[0]["http"]["auth"]["token"]["token"] == "rotated-secret-77"
    finally:
        client.delete_connection(created.id)
    with pytest.raises(NotFoundError):
        client.get_connection(created.id)


def test_it_reads_an_empty_connection_list_answered_with_204(client, control):
    assert client.list_connections() == []
    assert control.requests_log()[-1]["status"] == 204


def test_it_follows_link_pages_of_connections(client, control, setup_api):
    control.configure(page_size=2)
    made = {
        setup_api("/connections", http_connection(f"c{i}", secret=SECRET))["_id"] for i in range(5)
    }
    control.clear_requests_log()

    listed = client.list_connections()

    assert {connection.id for connection in listed} == made
    assert len(listed) == 5
    pages = [entry for entry in control.requests_log() if entry["path"] == "/v1/connections"]
    assert len(pages) == 3
    assert "skip=4" in pages[-1]["query"]


def test_it_refuses_to_send_a_masked_secret_back(client, control, setup_api):
    connection_id = setup_api("/connections", http_connection("shop", secret=SECRET))["_id"]
    fetched = client.get_connection(connection_id)
    control.clear_requests_log()

    with pytest.raises(MaskedSecretError) as caught:
        client.update_connection(connection_id, fetched.raw)

    assert "/http/auth/token/token" in str(caught.value)
    assert control.requests_log() == []  # nothing was sent
    stored = control.objects("connections", reveal=True)["objects"]["connections"][0]
    assert stored["http"]["auth"]["token"]["token"] == SECRET


def test_it_reports_the_remote_validation_errors(client, control):
    body = {"type": "filesystem", "name": "F", "filesystem": {}}
    with pytest.raises(ValidationError) as caught:
        client.create_connection(body)
    assert caught.value.status == 422
    assert [(e.code, e.field) for e in caught.value.errors] == [
        ("missing_required_field", "_agentId")
    ]
    assert not caught.value.retryable
    assert control.counts()["connections"] == 0


def test_it_pings_a_healthy_connection(client, seeded_or_live):
    connection_id = (
        seeded_or_live["connectionIds"]["shop"]
        if seeded_or_live
        else client.list_connections()[0].id
    )
    result = client.ping_connection(connection_id)
    assert result.ok
    assert result.errors == ()


def test_it_reads_a_failed_ping_answered_as_2xx_with_errors(client, control, seeded):
    connection_id = seeded["connectionIds"]["shop"]
    control.force_ping_outcome(connection_id, ok=False, code=401, message="Bad API key")

    result = client.ping_connection(connection_id)

    assert not result.ok
    assert result.status == 200
    assert [(e.code, e.message) for e in result.errors] == [("401", "Bad API key")]
    assert client.get_connection(connection_id).offline


def test_it_reads_a_failed_ping_answered_as_4xx(client, control, seeded):
    connection_id = seeded["connectionIds"]["erp"]
    control.configure(ping_failure_status=422)
    control.force_ping_outcome(connection_id, ok=False, code=401, message="Bad API key")

    result = client.ping_connection(connection_id)

    assert not result.ok
    assert result.status == 422
    assert result.message == "Bad API key"


def test_it_pings_a_virtual_connection_without_saving_it(client, control, target):
    good = http_connection(
        "probe", base_uri=target.server.demo_url("shop"), secret=target.server.demo_keys["shop"]
    )
    good["http"]["ping"] = {"relativeURI": "/ping", "method": "GET"}
    bad = http_connection("probe", base_uri=target.server.demo_url("shop"), secret="wrong-key")
    bad["http"]["ping"] = {"relativeURI": "/ping", "method": "GET"}

    assert client.ping_virtual_connection(good).ok
    failed = client.ping_virtual_connection(bad)

    assert not failed.ok
    assert failed.errors[0].code == "401"
    assert control.counts()["connections"] == 0

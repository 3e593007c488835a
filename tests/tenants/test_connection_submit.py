"""Credentials for a slot: tested through integrator.io's virtual ping first, then saved as a
connection; nothing secret is kept. Runs against the sandbox over real HTTP."""

import json
import threading
import time
import uuid

import pytest
import redis
from django.db import connection as db_connection
from django.forms.models import model_to_dict

from core.deployment import deployment_identity
from core.errors import ApplicationError
from tenants.errors import ConnectionFieldsInvalid, SlotNotFound, TenantGone
from tenants.models import ConnectionStatus, Tenant, TenantConnection, TenantStatus
from tenants.selectors import tenant_connections_ready
from tenants.services import (
    ConnectionSubmitResult,
    connection_fields_validate,
    slot_connection_body,
    tenant_connection_submit,
    tenant_deprovision,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def integrator(sandbox_clean, settings):
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    return sandbox_clean


@pytest.fixture
def private_rate_limit(settings):
    """This test's own rate-limit buckets (and breaker, and pause): a 429 drains the bucket
    for everyone who shares it, and nobody else must wait for this test's. Its keys go with
    it: a breaker it opened would outlive it for days under a namespace no deployment has,
    which tests/core/test_two_deployments.py rightly counts as a leak."""
    prefix = f"{settings.REDIS_KEY_PREFIX}{uuid.uuid4().hex[:8]}:"
    settings.REDIS_KEY_PREFIX = prefix
    yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


def shop_values(sandbox, key=None):
    return {"base_url": sandbox.demo_url("shop"), "api_key": key or sandbox.demo_keys["shop"]}


def remote_connections(sandbox):
    docs = sandbox.control.objects("connections", reveal=True)["objects"]["connections"]
    return {doc["_id"]: doc for doc in docs}


def test_it_builds_the_connection_body_from_the_slot(template):
    body = slot_connection_body(
        template=template,
        slot_key="erp",
        values={"base_url": "https://erp.example.com", "api_key": "k"},
        name="Acme - ERP",
    )
    assert body == {
        "type": "http",
        "name": "Acme - ERP",
        "http": {
            "baseURI": "https://erp.example.com",
            "mediaType": "json",
            "ping": {"relativeURI": "/ping", "method": "GET"},
            "auth": {
                "type": "token",
                "token": {"location": "url", "paramName": "api_key", "token": "k"},
            },
        },
    }
    assert "token" not in template.slot("erp")["connection"]["http"]["auth"]["token"]


def test_it_validates_fields_against_the_slot(template):
    slot = template.slot("shop")
    with pytest.raises(ConnectionFieldsInvalid) as caught:
        connection_fields_validate(
            slot=slot, values={"base_url": "not a url", "api_key": "", "extra": "x"}
        )
    assert caught.value.fields == {
        "fields.base_url": ["Must be an http or https URL."],
        "fields.api_key": ["This field is required."],
        "fields.extra": ["This slot has no such field."],
    }
    with pytest.raises(ConnectionFieldsInvalid) as caught:
        connection_fields_validate(
            slot=slot, values={"base_url": "https://x.example", "api_key": "******"}
        )
    assert list(caught.value.fields) == ["fields.api_key"]


@pytest.mark.parametrize(
    "url", ["https://user:secret@shop.example.com", "https://token@shop.example.com/api"]
)
def test_it_refuses_a_url_that_carries_credentials(template, url):
    # A URL field is shown back by the API, the admin and the form: a password in it would be.
    with pytest.raises(ConnectionFieldsInvalid) as caught:
        connection_fields_validate(
            slot=template.slot("shop"), values={"base_url": url, "api_key": "k"}
        )
    assert list(caught.value.fields) == ["fields.base_url"]
    assert "user name or password" in caught.value.fields["fields.base_url"][0]


def test_it_checks_each_field_kind():
    slot = {
        "fields": [
            {"name": "n", "label": "N", "kind": "number", "min": 1, "max": 10, "maps_to": "x.n"},
            {
                "name": "s",
                "label": "S",
                "kind": "select",
                "choices": ["a", {"value": "b", "label": "B"}],
                "maps_to": "x.s",
            },
            {
                "name": "t",
                "label": "T",
                "kind": "text",
                "pattern": "[A-Z]{3}",
                "max_length": 3,
                "maps_to": "x.t",
            },
        ]
    }
    assert connection_fields_validate(slot=slot, values={"n": "7", "s": "b", "t": " ABC "}) == {
        "n": 7,
        "s": "b",
        "t": "ABC",
    }
    with pytest.raises(ConnectionFieldsInvalid) as caught:
        connection_fields_validate(slot=slot, values={"n": 11, "s": "c", "t": "abc"})
    assert caught.value.fields == {
        "fields.n": ["Must be at most 10."],
        "fields.s": ["Must be one of: a, b."],
        "fields.t": ["Has the wrong format."],
    }
    with pytest.raises(ConnectionFieldsInvalid) as caught:
        connection_fields_validate(slot=slot, values={"n": True, "s": 1, "t": "ABCD"})
    assert caught.value.fields == {
        "fields.n": ["Must be a number."],
        "fields.s": ["Must be a string."],
        "fields.t": ["Must be at most 3 characters."],
    }


def test_it_creates_the_connection_when_the_ping_passes(integrator, acme):
    result = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert result.ok and result.message == ""
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.status == ConnectionStatus.OK
    assert row.last_ping_at is not None and row.last_ping_error == ""
    assert row.field_values == {"base_url": integrator.demo_url("shop")}
    remote = remote_connections(integrator)[row.connection_id]
    assert remote["http"]["auth"]["token"]["token"] == integrator.demo_keys["shop"]
    assert remote["http"]["auth"]["token"]["headerName"] == "Authorization"
    mark = f"{deployment_identity()}/{acme.uid}"
    assert remote["name"] == f"Acme Ltd (acme) - Online shop [{mark}]"
    assert remote["externalId"] == f"embedded:{deployment_identity()}:{acme.uid}:slot:shop"
    assert result.all_slots_ok is False


def test_it_adopts_a_connection_whose_create_answer_was_lost(integrator, acme):
    before = set(remote_connections(integrator))
    integrator.control.inject_fault(
        "commit_then_drop", path="/v1/connections", method="POST", times=1
    )
    result = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert result.ok
    created = set(remote_connections(integrator)) - before
    assert created == {result.connection.connection_id}  # exactly one, and it is ours

    again = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert again.connection.connection_id == result.connection.connection_id
    assert set(remote_connections(integrator)) - before == created


def test_it_stores_nothing_when_the_ping_fails(integrator, acme):
    before = integrator.control.counts().get("connections")
    result = tenant_connection_submit(
        tenant=acme, slot_key="shop", values=shop_values(integrator, key="wrong-key")
    )
    assert not result.ok
    assert "401" in result.message and "Invalid or missing API key" in result.message
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert (row.status, row.connection_id, row.field_values) == (ConnectionStatus.FAILED, "", {})
    assert row.last_ping_error == result.message
    assert integrator.control.counts().get("connections") == before


def test_it_keeps_the_connection_id_on_reconnect(integrator, acme):
    first = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    connection_id = first.connection.connection_id
    before = integrator.control.counts()["connections"]
    new_url = integrator.demo_url("shop") + "/"
    again = tenant_connection_submit(
        tenant=acme,
        slot_key="shop",
        values={"base_url": new_url, "api_key": integrator.demo_keys["shop"]},
    )
    assert again.ok and again.connection.connection_id == connection_id
    assert integrator.control.counts()["connections"] == before
    remote = remote_connections(integrator)[connection_id]
    assert remote["http"]["baseURI"] == new_url
    assert remote["http"]["auth"]["token"]["token"] == integrator.demo_keys["shop"]


def test_a_failed_reconnect_leaves_the_working_connection_alone(integrator, acme):
    first = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    result = tenant_connection_submit(
        tenant=acme, slot_key="shop", values=shop_values(integrator, key="wrong")
    )
    assert not result.ok
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.status == ConnectionStatus.OK
    assert row.connection_id == first.connection.connection_id
    # The row describes the connection that works; the rejected values' reason is the answer.
    assert row.last_ping_error == "" and result.message
    assert row.last_ping_at == first.connection.last_ping_at
    remote = remote_connections(integrator)[row.connection_id]
    assert remote["http"]["auth"]["token"]["token"] == integrator.demo_keys["shop"]


def test_it_recreates_a_connection_deleted_in_integrator_io(integrator, acme):
    first = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    integrator.api().delete(f"{integrator.api_url}/connections/{first.connection.connection_id}")
    again = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert again.ok
    assert again.connection.connection_id != first.connection.connection_id
    assert again.connection.connection_id in remote_connections(integrator)


def test_it_says_when_every_slot_works(integrator, acme):
    tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    result = tenant_connection_submit(
        tenant=acme,
        slot_key="erp",
        values={"base_url": integrator.demo_url("erp"), "api_key": integrator.demo_keys["erp"]},
    )
    assert result.ok and result.all_slots_ok
    assert tenant_connections_ready(tenant=acme)


def test_it_never_stores_a_secret(integrator, acme):
    secret = integrator.demo_keys["shop"]
    tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    tenant_connection_submit(
        tenant=acme, slot_key="shop", values=shop_values(integrator, key=secret + "-bad")
    )
    for row in TenantConnection.objects.filter(tenant=acme):
        assert secret not in json.dumps(model_to_dict(row), default=str)
    acme.refresh_from_db()
    assert secret not in json.dumps(model_to_dict(acme), default=str)


def test_it_refuses_an_unknown_slot_and_a_deprovisioned_tenant(integrator, acme):
    with pytest.raises(SlotNotFound):
        tenant_connection_submit(tenant=acme, slot_key="crm", values={})
    tenant_deprovision(tenant=acme)
    with pytest.raises(TenantGone):
        tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert acme.status == TenantStatus.DEPROVISIONING


def test_it_reports_integrator_io_outages_as_retryable(integrator, acme):
    integrator.control.inject_fault("error", path="/v1/connections/ping", status=503)
    with pytest.raises(ApplicationError) as caught:
        tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert caught.value.http_status == 503
    assert caught.value.code == "integrator_unavailable"
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.status == ConnectionStatus.MISSING


def test_a_create_whose_answer_was_lost_and_that_is_not_there_says_to_send_again(
    integrator, acme, settings
):
    # The request reached nobody (dropped before anything happened): the adoption finds no
    # connection with the tenant's mark. "check the tenant's connection before trying again"
    # sent the host app to look for what it cannot see; sending the credentials again is the
    # way, and it works.
    settings.PROVISIONING_OUTCOME_SETTLE_SECONDS = 7
    before = set(remote_connections(integrator))
    integrator.control.inject_fault("drop", path="/v1/connections", method="POST", times=1)
    with pytest.raises(ApplicationError) as caught:
        tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert caught.value.http_status == 503
    assert caught.value.code == "integrator_outcome_unknown"
    assert caught.value.message == (
        "integrator.io did not confirm saving the connection, so the credentials were not "
        "recorded; send them again after Retry-After."
    )
    assert caught.value.retry_after == 7
    assert set(remote_connections(integrator)) == before

    again = tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert again.ok
    assert set(remote_connections(integrator)) - before == {again.connection.connection_id}


def test_an_outage_during_the_save_says_the_credentials_passed_their_test(
    integrator, acme, private_rate_limit
):
    # The test (virtual ping) passed; saving the connection is what failed: "neither tested
    # nor saved" would send the customer to check credentials that work. (Its own breaker:
    # the failures it makes must not open the one the next tests use.)
    integrator.control.inject_fault("error", path="/v1/connections", method="POST", status=503)
    integrator.control.inject_fault("error", path="/v1/connections", method="GET", status=503)
    with pytest.raises(ApplicationError) as caught:
        tenant_connection_submit(tenant=acme, slot_key="shop", values=shop_values(integrator))
    assert caught.value.http_status == 503
    assert "neither tested" not in caught.value.message
    assert "passed their test but were not saved" in caught.value.message
    row = TenantConnection.objects.get(tenant=acme, slot_key="shop")
    assert row.status == ConnectionStatus.MISSING


def test_a_refused_save_says_the_credentials_work_and_what_integrator_io_answered(acme):
    # integrator.io refusing the body of a connection whose test passed (the sandbox cannot
    # be made to): the template's connection settings are at fault, not the credentials.
    result = ConnectionSubmitResult(
        ok=False,
        connection=TenantConnection(tenant=acme, slot_key="shop"),
        message="http.baseURI: must be https",
        slot_label="Shop",
        refused_status=422,
    )

    error = result.failure()

    assert (error.http_status, error.code) == (422, "connection_test_failed")
    assert error.message.startswith("The Shop credentials work, but integrator.io refused")
    assert error.remote == {"status": 422, "message": "http.baseURI: must be https"}


class TestApi:
    def url(self, slot="shop"):
        return f"/api/v1/tenants/acme/connections/{slot}"

    def test_it_answers_200_with_the_connection(self, integrator, api, acme):
        response = api.put(self.url(), {"fields": shop_values(integrator)}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["slot"] == "shop" and body["status"] == "ok"
        assert body["connection_id"] and body["ready"] is False and body["job"] is None
        assert integrator.demo_keys["shop"] not in response.content.decode()
        detail = api.get("/api/v1/tenants/acme/").json()
        shop = detail["connections"][0]
        assert shop["status"] == "ok"
        assert shop["fields"] == {"base_url": integrator.demo_url("shop")}

    def test_it_answers_422_in_words_with_the_apps_answer_in_its_own_field(
        self, integrator, api, acme
    ):
        response = api.put(
            self.url(), {"fields": shop_values(integrator, key="nope-not-the-key")}, format="json"
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "connection_test_failed"
        # What failed, in words; the app's own answer apart, as status and message.
        label = acme.template.slot("shop")["label"]
        assert error["message"].startswith(f"integrator.io tested the {label} connection")
        assert "did not accept these credentials" in error["message"]
        assert "{" not in error["message"]
        assert error["remote"] == {"status": 401, "message": "Invalid or missing API key."}
        assert "nope-not-the-key" not in response.content.decode()

    def test_it_answers_400_for_invalid_fields(self, integrator, api, acme):
        response = api.put(self.url(), {"fields": {"base_url": 3}}, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"fields.base_url", "fields.api_key"}

    def test_it_answers_404_for_an_unknown_slot(self, integrator, api, acme):
        response = api.put(self.url("crm"), {"fields": {}}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "slot_not_found"

    def test_it_answers_503_when_integrator_io_is_down(self, integrator, api, acme):
        integrator.control.inject_fault("error", path="/v1/connections/ping", status=503)
        started = time.monotonic()
        response = api.put(self.url(), {"fields": shop_values(integrator)}, format="json")
        assert time.monotonic() - started < 4
        assert response.status_code == 503
        assert response["Retry-After"].isdigit()
        error = response.json()["error"]
        assert error["code"] == "integrator_unavailable"
        assert error["message"].startswith("integrator.io account 'default' is not answering")
        assert error["remote"]["status"] == 503

    def test_it_answers_429_at_once_when_integrator_io_rate_limits_for_long(
        self, integrator, api, acme, private_rate_limit
    ):
        integrator.control.inject_fault(
            "rate_limit", path="/v1/connections/ping", method="POST", retry_after=20
        )
        started = time.monotonic()
        response = api.put(self.url(), {"fields": shop_values(integrator)}, format="json")
        # Answered without sleeping through the wait that integrator.io asked for.
        assert time.monotonic() - started < 2.5
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"
        assert 20 <= int(response["Retry-After"]) <= 23

    def test_it_waits_out_a_short_rate_limit_within_the_request(
        self, integrator, api, acme, private_rate_limit
    ):
        integrator.control.inject_fault(
            "rate_limit", path="/v1/connections/ping", method="POST", retry_after=1, times=1
        )
        response = api.put(self.url(), {"fields": shop_values(integrator)}, format="json")
        assert response.status_code == 200, response.content


@pytest.mark.django_db(transaction=True)
def test_a_submission_that_meets_a_deprovision_never_leaves_its_connection(integrator, acme):
    """Credentials submitted while the tenant is deprovisioned: either the submission is
    refused, or its connection is recorded before the deprovision reads what to delete. The
    deprovision (its job starts once the status change commits) never misses it."""
    integrator.control.set_latency(1500, path="/v1/connections", method="POST")
    outcome = {}

    def submit():
        try:
            outcome["result"] = tenant_connection_submit(
                tenant=Tenant.objects.get(pk=acme.pk),
                slot_key="shop",
                values=shop_values(integrator),
            )
        except TenantGone as error:
            outcome["refused"] = error
        finally:
            db_connection.close()

    submitting = threading.Thread(target=submit)
    submitting.start()
    time.sleep(0.8)  # the ping has passed; the connection's create is under way
    tenant_deprovision(tenant=Tenant.objects.get(pk=acme.pk))
    recorded_when_deprovisioned = set(
        TenantConnection.objects.filter(tenant=acme)
        .exclude(connection_id="")
        .values_list("connection_id", flat=True)
    )
    submitting.join(timeout=30)

    made = {
        doc["_id"]
        for doc in remote_connections(integrator).values()
        if acme.uid in doc.get("externalId", "")
    }
    assert made <= recorded_when_deprovisioned, "a connection the deprovision cannot see"
    assert ("result" in outcome) == bool(made), outcome

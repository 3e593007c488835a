"""Redis gone or hung: a write that committed answers as usual, never 500.

The job row a write commits is the outbox: when the broker cannot take the job's message,
the request still answers (and logs a warning), and the sweeper sends the message later. A
host app that got a 500 would retry an operation that already happened.

The service runs in a gunicorn subprocess whose broker is a private redis-server that the
test kills (connections refused) or pauses (connections accepted, never answered).
"""

import time
from datetime import timedelta

import pytest

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from provisioning.models import Job, JobKind, JobStatus
from tenants.connect_links import connect_link_create
from tenants.models import Tenant, TenantStatus
from tenants.services import tenant_connection_submit
from tests.connect.pages import forms_by_slot
from tests.fixtures.factories import IntegrationTemplateFactory, TenantFactory

# What "within a couple of seconds" means for one write while the broker hangs.
HUNG_BROKER_BUDGET_SECONDS = 4.0


class Scene:
    def __init__(self, *, server, redis, sandbox, template, key):
        self.server = server
        self.redis = redis
        self.sandbox = sandbox
        self.template = template
        self.headers = {"Authorization": f"Api-Key {key}"}

    def call(self, method, path, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        started = time.monotonic()
        response = self.server.request(method, f"/api/v1/tenants/{path}", headers=headers, **kwargs)
        return response, time.monotonic() - started

    def active_tenant(self) -> Tenant:
        tenant = TenantFactory(template=self.template)
        Tenant.objects.filter(pk=tenant.pk).update(
            status=TenantStatus.ACTIVE, integration_id="integration-of-the-test"
        )
        return tenant

    def tenant_missing_one_slot(self) -> Tenant:
        tenant = TenantFactory(template=self.template)
        result = tenant_connection_submit(
            tenant=tenant, slot_key="shop", values=self.slot_values("shop")
        )
        assert result.ok, result.message
        return tenant

    def open_form(self, tenant: Tenant):
        """The credential form's path and its shop slot, as a browser gets them."""
        path = connect_link_create(tenant=tenant, expires_in=timedelta(minutes=30)).path
        page = self.server.request("GET", path)
        assert page.status_code == 200, page.text
        return path, forms_by_slot(page.text)["shop"]

    def submit(self, path: str, form) -> tuple:
        started = time.monotonic()
        data = form.data(**self.slot_values("shop"))
        response = self.server.request("POST", path, data=data)
        return response, time.monotonic() - started

    def slot_values(self, slot_key: str) -> dict:
        return {
            "base_url": self.sandbox.demo_url(slot_key),
            "api_key": self.sandbox.demo_keys[slot_key],
        }


@pytest.fixture
def scene(transactional_db, sandbox_clean, settings, private_redis, web_server_factory):
    sandbox_clean.control.seed()
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    template = IntegrationTemplateFactory(key="shop-to-erp")
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    server = web_server_factory(
        env={
            "REDIS_URL": private_redis.url,
            "INTEGRATOR_API_URL": sandbox_clean.api_url,
            "INTEGRATOR_API_TOKEN": sandbox_clean.token,
        }
    )
    return Scene(
        server=server, redis=private_redis, sandbox=sandbox_clean, template=template, key=key
    )


def assert_no_error_logged(log: str) -> None:
    assert "Traceback" not in log
    assert "Internal Server Error" not in log
    assert " ERROR " not in log


def test_it_answers_committed_writes_as_usual_when_redis_is_gone(scene):
    active = scene.active_tenant()
    half = scene.tenant_missing_one_slot()
    leaving = TenantFactory(template=scene.template)
    scene.redis.kill()

    patch, patch_seconds = scene.call(
        "PATCH",
        f"{active.external_id}/",
        json={"settings": {"sync_interval_minutes": 30}},
        headers={"Idempotency-Key": "settings-change-1"},
    )
    put, put_seconds = scene.call(
        "PUT", f"{half.external_id}/connections/erp", json={"fields": scene.slot_values("erp")}
    )
    delete, delete_seconds = scene.call("DELETE", f"{leaving.external_id}/")

    assert patch.status_code == 200, patch.text
    assert patch.json()["settings_changed"] is True
    assert patch.json()["job"]["kind"] == JobKind.UPDATE_SETTINGS
    assert put.status_code == 200, put.text
    assert put.json()["ready"] is True
    assert put.json()["job"]["kind"] == JobKind.PROVISION
    assert delete.status_code == 202, delete.text
    assert delete.json()["job"]["kind"] == JobKind.DEPROVISION
    # Refused connections fail at once; nothing waits on retries.
    assert max(patch_seconds, put_seconds, delete_seconds) < 2.0

    # The rows are the outbox: queued, for the sweeper to send once the broker is back.
    jobs = Job.objects.filter(pk__in=[r.json()["job"]["id"] for r in (patch, put, delete)])
    assert sorted(jobs.values_list("status", flat=True)) == [JobStatus.QUEUED] * 3
    # The host app's retry of the same request gets the same answer, not a second change.
    again, _ = scene.call(
        "PATCH",
        f"{active.external_id}/",
        json={"settings": {"sync_interval_minutes": 30}},
        headers={"Idempotency-Key": "settings-change-1"},
    )
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["job"]["id"] == patch.json()["job"]["id"]

    log = scene.server.log()
    assert_no_error_logged(log)
    for job in jobs:
        assert f"{job.pk}" in log
    assert log.count("WARNING") >= 3


def test_it_answers_within_a_couple_of_seconds_when_redis_hangs(scene):
    active = scene.active_tenant()
    leaving = TenantFactory(template=scene.template)
    scene.redis.pause()

    patch, patch_seconds = scene.call(
        "PATCH", f"{active.external_id}/", json={"settings": {"sync_interval_minutes": 60}}
    )
    delete, delete_seconds = scene.call("DELETE", f"{leaving.external_id}/")

    assert patch.status_code == 200, patch.text
    assert delete.status_code == 202, delete.text
    assert patch_seconds < HUNG_BROKER_BUDGET_SECONDS
    assert delete_seconds < HUNG_BROKER_BUDGET_SECONDS
    assert_no_error_logged(scene.server.log())


def test_it_refuses_credential_submissions_with_a_503_page_when_redis_is_gone(scene):
    # The form's per-link submission limit lives in Redis, and stays closed without it.
    path, form = scene.open_form(TenantFactory(template=scene.template))
    scene.redis.kill()

    response, seconds = scene.submit(path, form)

    assert response.status_code == 503
    assert "We cannot check credentials right now" in response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert seconds < 2.0
    assert_no_error_logged(scene.server.log())


def test_it_refuses_credential_submissions_within_a_couple_of_seconds_when_redis_hangs(scene):
    path, form = scene.open_form(TenantFactory(template=scene.template))
    scene.redis.pause()

    response, seconds = scene.submit(path, form)

    assert response.status_code == 503
    assert "We cannot check credentials right now" in response.text
    assert seconds < HUNG_BROKER_BUDGET_SECONDS
    assert_no_error_logged(scene.server.log())

"""The tenant endpoints of /api/v1/, as a host app uses them."""

import base64
import copy

import pytest
from django.utils import timezone

from api.authentication import api_key_cache_clear
from core.accounts import integrator_account_default, integrator_account_save
from provisioning.models import Job, JobStatus
from tenants.models import Tenant, TenantStatus
from tenants.services import template_load
from tests.fixtures.factories import DEMO_TEMPLATE, IntegrationTemplateFactory, TenantFactory

pytestmark = pytest.mark.django_db

TENANTS = "/api/v1/tenants/"


def _cursor(token: str) -> str:
    return base64.urlsafe_b64encode(token.encode()).decode()


def create_body(**overrides):
    body = {
        "external_id": "initech",
        "name": "Initech",
        "template": "shop-to-erp",
        "settings": {"store_id": "initech-eu", "sync_interval_minutes": 30},
        "allowed_origins": ["https://app.example.com"],
    }
    return {**body, **overrides}


@pytest.mark.parametrize("region", ["EU", "eu-west-1", "asia"])
def test_registering_in_an_unknown_region_is_answered_with_the_regions(api, template, region):
    """A host app that sent "EU" (or its cloud's region name) read only ""EU" is not a valid
    choice", with no word of the regions there are, though the list's filter names them."""
    response = api.post(TENANTS, create_body(region=region), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_fields"
    assert error["fields"] == {"region": ["Not a region; one of us, eu."]}
    assert not Tenant.objects.filter(external_id="initech").exists()


def test_it_creates_a_tenant(api, template):
    response = api.post(TENANTS, create_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["external_id"] == "initech"
    assert body["status"] == "awaiting_credentials"
    assert body["template"] == {
        "key": "shop-to-erp",
        "name": template.name,
        "version": "1.0.0",
        "pinned": False,
        "upgrade_available": None,
    }
    assert body["settings_overrides"] == {"store_id": "initech-eu", "sync_interval_minutes": 30}
    assert body["settings"]["sync_interval_minutes"] == 30
    assert body["settings"]["order_statuses"] == ["paid"]  # a template default
    assert body["settings"]["flows"] == {"orders": True, "customers": True, "stock": False}
    assert [c["slot"] for c in body["connections"]] == ["shop", "erp"]
    assert {c["status"] for c in body["connections"]} == {"missing"}
    assert body["ready"] is False
    assert body["current_job"] is None and body["last_job"] is None
    assert response["Location"] == "/api/v1/tenants/initech"


def test_it_returns_the_same_tenant_for_the_same_create(api, template):
    first = api.post(TENANTS, create_body(), format="json")
    again = api.post(TENANTS, create_body(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["external_id"] == "initech"
    assert Tenant.objects.filter(external_id="initech").count() == 1


def test_it_refuses_a_different_create_for_an_existing_external_id(api, template):
    api.post(TENANTS, create_body(), format="json")
    response = api.post(TENANTS, create_body(name="Initrode"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "tenant_exists"
    assert list(response.json()["error"]["fields"]) == ["name"]
    assert Tenant.objects.get(external_id="initech").name == "Initech"


def test_registering_again_with_the_origins_in_another_order_returns_the_tenant(api, template):
    # allowed_origins is a set (each origin once, in the form's CSP in no particular order): a
    # host that builds the list from a set of its own sends it in any order when it registers
    # its customer again, and that is the same registration, not a 409 `tenant_exists`.
    origins = ["https://app.example.com", "http://localhost:3000"]
    first = api.post(TENANTS, create_body(allowed_origins=origins), format="json")

    again = api.post(TENANTS, create_body(allowed_origins=origins[::-1]), format="json")
    other = api.post(TENANTS, create_body(allowed_origins=origins[:1]), format="json")

    assert first.status_code == 201
    assert again.status_code == 200, again.json()
    assert again.json()["allowed_origins"] == origins
    assert other.status_code == 409
    assert list(other.json()["error"]["fields"]) == ["allowed_origins"]


def test_registering_again_after_a_settings_change_returns_the_tenant(api, template):
    # The host registers its customer with its usual body (no settings) whenever it likes;
    # a settings change made since (the integration page, PATCH) is not a conflict.
    body = {k: v for k, v in create_body().items() if k != "settings"}
    api.post(TENANTS, body, format="json")
    api.patch(f"{TENANTS}initech", {"settings": {"store_id": "moved"}}, format="json")

    again = api.post(TENANTS, body, format="json")

    assert again.status_code == 200, again.json()
    assert again.json()["settings"]["store_id"] == "moved"


def test_registering_again_with_settings_that_come_to_the_same_returns_the_tenant(api, template):
    """A registration is the same when the settings it gives come to the tenant's: a value
    the tenant has by default, given in the body, or one set back to its default through the
    integration page (kept there as a value of its own), was a 409 whose "GET the tenant to
    see it" showed no difference."""
    body = create_body(settings={"store_id": "initech-eu"})
    assert api.post(TENANTS, body, format="json").status_code == 201
    # 15 is the template's default interval: the tenant has it already.
    explicit = create_body(settings={"store_id": "initech-eu", "sync_interval_minutes": 15})
    assert api.post(TENANTS, explicit, format="json").status_code == 200

    # The customer moves the interval to 30 and back to 15 (a value of its own now).
    for minutes in (30, 15):
        api.patch(
            f"{TENANTS}initech", {"settings": {"sync_interval_minutes": minutes}}, format="json"
        )
    again = api.post(TENANTS, body, format="json")
    assert again.status_code == 200, again.json()
    assert again.json()["settings_overrides"] == {
        "store_id": "initech-eu",
        "sync_interval_minutes": 15,
    }

    # Settings that come to something else are still a conflict, naming them.
    other = api.post(
        TENANTS,
        create_body(settings={"store_id": "initech-eu", "sync_interval_minutes": 30}),
        format="json",
    )
    assert other.status_code == 409
    assert list(other.json()["error"]["fields"]) == ["settings"]


def test_a_setting_outside_its_choices_is_told_the_choices(api, template):
    # The host app's developer writes the value in code: "one of the offered choices" named
    # none of them (nothing is offered in an API); the answer names the schema's values.
    body = create_body(settings={"erp_order_type": "quote", "order_statuses": ["lost"]})

    response = api.post(TENANTS, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "settings.erp_order_type": ["Must be one of: sales_order, invoice."],
        "settings.order_statuses.0": ["Must be one of: pending, paid, shipped, cancelled."],
    }


def test_a_setting_that_misses_its_pattern_is_told_an_example(api, template):
    # "Is not in the expected form." told the developer nothing of the form; as on the
    # integration page, the setting's example (here its default) shows it.
    body = create_body(settings={"store_id": "Main Store"})

    response = api.post(TENANTS, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "settings.store_id": ["Is not in the expected form, for example “default”."]
    }


def test_a_null_setting_at_registration_leaves_the_default_as_in_an_update(api, template):
    # PATCH takes null as "the template's default" (a JSON Merge Patch); a host that builds
    # both bodies alike sent the same null at registration and was told "Must be a whole
    # number." A null override is no override, at registration too.
    settings = {"store_id": "main", "sync_interval_minutes": None, "flows": {"stock": None}}

    created = api.post(TENANTS, create_body(settings=settings), format="json")
    again = api.post(TENANTS, create_body(settings=settings), format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["settings_overrides"] == {"store_id": "main"}
    assert created.json()["settings"]["sync_interval_minutes"] == 15
    assert created.json()["settings"]["flows"]["stock"] is False
    assert again.status_code == 200, again.json()


def test_it_validates_settings_against_the_template_schema(api, template):
    body = create_body(settings={"sync_interval_minutes": 1, "unknown": True, "store_id": 7})
    response = api.post(TENANTS, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_settings"
    assert set(error["fields"]) == {
        "settings",
        "settings.sync_interval_minutes",
        "settings.store_id",
    }
    assert "unknown" in error["fields"]["settings"][0]
    assert not Tenant.objects.exists()


def test_it_names_each_invalid_field(api, template):
    body = create_body(
        external_id="has space", template="nope", allowed_origins=["ftp://x"], color="red"
    )
    response = api.post(TENANTS, body, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"external_id", "template", "color"}


def test_it_refuses_an_allowed_origin_with_a_path(api, template):
    body = create_body(allowed_origins=["https://app.example.com", "https://x.com/path"])
    response = api.post(TENANTS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["allowed_origins.1"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://*.example.com",
        "https://app.example.com; script-src *",
        "https://app.example.com *",
        "http://[::1]:3000",
        "https://app_1.example.com",
        "https://app..example.com",
    ],
)
def test_it_refuses_an_allowed_origin_the_framing_policy_cannot_name(api, template, origin):
    # Each was stored as given, then left out of the form's frame-ancestors and of the Origin
    # check of its posts: the host's embed was refused with no word of why.
    body = create_body(allowed_origins=["https://app.example.com", origin])
    response = api.post(TENANTS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["allowed_origins.1"]


def test_it_refuses_an_allowed_origin_on_port_0(api, template):
    # No page is served from port 0: it was stored as the default port's origin
    # (https://app.example.com), which the host had not named.
    body = create_body(allowed_origins=["https://app.example.com:0"])
    response = api.post(TENANTS, body, format="json")
    assert response.status_code == 400
    assert "Must be an origin" in response.json()["error"]["fields"]["allowed_origins.0"][0]


def test_it_normalises_allowed_origins(api, template):
    body = create_body(allowed_origins=["HTTPS://App.Example.com:443/", "http://localhost:3000"])
    response = api.post(TENANTS, body, format="json")
    assert response.json()["allowed_origins"] == [
        "https://app.example.com",
        "http://localhost:3000",
    ]


def test_it_keeps_an_internationalised_origin_in_the_form_browsers_send(api, template):
    # A browser's Origin (and what frame-ancestors matches) holds the punycode host: kept as
    # typed, "https://ä.com" was stored and then silently left out of the form's CSP.
    # The same origin in both forms is one origin given twice: refused, not merged.
    twice = create_body(allowed_origins=["https://Ä.com", "https://xn--4ca.com:443"])
    refused = api.post(TENANTS, twice, format="json")
    assert list(refused.json()["error"]["fields"]) == ["allowed_origins.1"]
    body = create_body(allowed_origins=["https://Ä.com"])
    response = api.post(TENANTS, body, format="json")
    assert response.json()["allowed_origins"] == ["https://xn--4ca.com"]
    link = api.post(
        f"{TENANTS}{body['external_id']}/connect-links",
        {"return_url": "https://xn--4ca.com/back"},
        format="json",
    )
    assert link.status_code == 201, link.content


def test_it_shows_one_tenant(api, acme, globex):
    response = api.get(f"{TENANTS}acme/")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Ltd"


def test_it_answers_404_for_an_unknown_tenant(api, acme):
    for external_id in ("nobody", "a%00b", "x" * 300):
        response = api.get(f"{TENANTS}{external_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "tenant_not_found"


@pytest.mark.parametrize(
    "change",
    [{"region": "eu"}, {"template": "shop-to-erp-eu"}, {"integrator_account": {"key": "eu-main"}}],
)
def test_a_patch_of_a_tenants_region_or_account_says_how_to_move_it(api, acme, change):
    """A host app that tried to move a customer to the EU by a PATCH read only "This field is
    not allowed.", as if it had misspelt the field, with no word that a tenant never changes
    region or how to move it."""
    response = api.patch(f"{TENANTS}acme/", change, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_fields"
    (field,) = change
    (message,) = error["fields"][field]
    assert "never changes" in message
    assert "DELETE /api/v1/tenants/acme" in message
    assert "register it again" in message
    acme.refresh_from_db()
    assert acme.template.key == "shop-to-erp"


def test_it_merges_a_settings_patch(api, acme):
    api.patch(f"{TENANTS}acme/", {"settings": {"store_id": "acme-1"}}, format="json")
    response = api.patch(f"{TENANTS}acme/", {"settings": {"flows": {"stock": True}}}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["settings_overrides"] == {"store_id": "acme-1", "flows": {"stock": True}}
    assert body["settings"]["flows"] == {"orders": True, "customers": True, "stock": True}
    assert body["settings_changed"] is True
    assert body["job"] is None


def test_it_queues_a_settings_job_when_an_integration_exists(api, acme):
    Tenant.objects.filter(pk=acme.pk).update(
        status=TenantStatus.ACTIVE, integration_id="5eed0000000000000000ffff"
    )
    response = api.patch(f"{TENANTS}acme/", {"settings": {"store_id": "acme-2"}}, format="json")
    assert response.status_code == 200
    job = response.json()["job"]
    assert (job["kind"], job["status"]) == ("update_settings", "queued")
    unchanged = api.patch(f"{TENANTS}acme/", {"settings": {"store_id": "acme-2"}}, format="json")
    assert unchanged.json()["settings_changed"] is False
    assert unchanged.json()["job"] is None
    detail = api.get(f"{TENANTS}acme/").json()
    assert detail["current_job"]["id"] == job["id"]
    assert detail["last_job"] is None


def test_it_shows_the_current_job_and_the_last_finished_one(api, acme):
    Tenant.objects.filter(pk=acme.pk).update(
        status=TenantStatus.ACTIVE, integration_id="5eed0000000000000000ffff"
    )

    def views():
        listed = next(t for t in api.get(TENANTS).json()["results"] if t["external_id"] == "acme")
        detail = api.get(f"{TENANTS}acme/").json()
        assert listed == detail
        return (detail["current_job"] or {}).get("id"), (detail["last_job"] or {}).get("id")

    def settings_job(store_id):
        response = api.patch(f"{TENANTS}acme/", {"settings": {"store_id": store_id}}, format="json")
        return response.json()["job"]["id"]

    def finish(job_id, status):
        Job.objects.filter(pk=job_id).update(status=status, finished_at=timezone.now())

    first = settings_job("acme-1")
    assert views() == (first, None)
    finish(first, JobStatus.SUCCEEDED)
    assert views() == (None, first)
    second = settings_job("acme-2")
    assert views() == (second, first)
    finish(second, JobStatus.FAILED)
    assert views() == (None, second)
    third = settings_job("acme-3")
    assert views() == (third, second)


def test_a_tenant_whose_job_waits_for_integrator_io_says_so_and_why(api, acme, settings):
    """integrator.io is failing: the tenant's job waits it out, and the host app must be able
    to tell its customer why nothing happens, from the tenant alone."""
    from datetime import timedelta

    from core.integrator_client import rate_limit_redis
    from core.integrator_outage import integrator_breaker

    breaker = integrator_breaker(rate_limit_redis(), acme.account)
    breaker.reset()
    assert api.get(f"{TENANTS}acme/").json()["waiting_for_integrator"] is None
    since = timezone.now() - timedelta(minutes=12)
    retry_at = timezone.now() + timedelta(minutes=4)
    job = Job.objects.create(
        tenant=acme,
        kind="update_settings",
        requested_by="api",
        status=JobStatus.QUEUED,
        due_at=retry_at,
        waiting_since=since,
        outage_retries=5,
        error_code="circuit_open",
        error_message="Waiting for integrator.io since ...",
    )
    Tenant.objects.filter(pk=acme.pk).update(latest_job=job)
    try:
        for _ in range(settings.INTEGRATOR_BREAKER_FAILURES):
            breaker.record_failure(breaker.admit())
        opened = breaker.snapshot()[0]

        detail = api.get(f"{TENANTS}acme/").json()
        listed = next(t for t in api.get(TENANTS).json()["results"] if t["external_id"] == "acme")

        assert listed == detail
        waiting = detail["waiting_for_integrator"]
        assert waiting["since"] == since.isoformat().replace("+00:00", "Z")
        assert waiting["next_attempt_at"] == retry_at.isoformat().replace("+00:00", "Z")
        assert waiting["integrator"]["state"] == "open"
        assert waiting["integrator"]["episode"] == opened.episode
        assert waiting["integrator"]["next_probe_at"]

        breaker.reset()  # integrator.io is back; the job goes at once
        waiting = api.get(f"{TENANTS}acme/").json()["waiting_for_integrator"]
        assert waiting["integrator"]["state"] == "closed"
        Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())
        assert api.get(f"{TENANTS}acme/").json()["waiting_for_integrator"] is None
    finally:
        breaker.reset()


def test_it_returns_a_setting_to_its_default_on_null(api, acme):
    api.patch(f"{TENANTS}acme/", {"settings": {"store_id": "acme-1"}}, format="json")
    response = api.patch(f"{TENANTS}acme/", {"settings": {"store_id": None}}, format="json")
    assert response.json()["settings_overrides"] == {}
    assert response.json()["settings"]["store_id"] == "default"


def test_it_reports_no_settings_change_when_only_the_name_changes(api, acme):
    response = api.patch(f"{TENANTS}acme/", {"name": "Acme Inc"}, format="json")
    assert response.json()["settings_changed"] is False
    assert response.json()["name"] == "Acme Inc"
    unchanged = api.patch(
        f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": 15}}, format="json"
    )
    assert unchanged.json()["settings_changed"] is False  # 15 is the default


def test_it_refuses_an_invalid_settings_patch_and_keeps_the_old_settings(api, acme):
    api.patch(f"{TENANTS}acme/", {"settings": {"store_id": "acme-1"}}, format="json")
    response = api.patch(
        f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": 99999}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["settings.sync_interval_minutes"]
    acme.refresh_from_db()
    assert acme.settings == {"store_id": "acme-1"}


@pytest.mark.parametrize("value", [True, "15", 15.5])
def test_a_setting_of_the_wrong_type_is_told_in_plain_words(api, acme, value):
    response = api.patch(
        f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": value}}, format="json"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {"settings.sync_interval_minutes": ["Must be a whole number."]}


def test_a_repeated_choice_is_told_in_plain_words(api, acme):
    response = api.patch(
        f"{TENANTS}acme/", {"settings": {"order_statuses": ["paid", "paid"]}}, format="json"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {"settings.order_statuses": ["Each value may be chosen once."]}


def test_it_refuses_a_sync_interval_no_schedule_can_say(api, acme):
    # The demo template maps sync_interval_minutes to every flow's schedule: 45 was stored and
    # shown while the flows ran every 30 minutes.
    response = api.patch(
        f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": 45}}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["settings.sync_interval_minutes"][0]
    assert "every 45 minutes" in message and "30, 60, 120" in message
    for minutes in (5, 30, 60, 720, 1440):
        response = api.patch(
            f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": minutes}}, format="json"
        )
        assert response.status_code == 200, (minutes, response.content)


def test_a_value_written_before_the_interval_check_does_not_block_other_changes(api, acme):
    Tenant.objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 45})
    response = api.patch(f"{TENANTS}acme/", {"settings": {"store_id": "acme-9"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["settings"]["sync_interval_minutes"] == 45


def test_it_stores_a_whole_number_sent_as_a_float_as_an_integer(api, acme):
    response = api.patch(
        f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": 30.0}}, format="json"
    )
    assert response.status_code == 200
    assert b'"sync_interval_minutes":30,' in response.content
    acme.refresh_from_db()
    assert type(acme.settings["sync_interval_minutes"]) is int
    again = api.patch(f"{TENANTS}acme/", {"settings": {"sync_interval_minutes": 30}}, format="json")
    assert again.json()["settings_changed"] is False


def test_it_starts_deprovisioning_on_delete(api, acme):
    response = api.delete(f"{TENANTS}acme/")
    assert response.status_code == 202
    assert response.json()["status"] == "deprovisioning"
    job = response.json()["job"]
    assert (job["kind"], job["status"]) == ("deprovision", "queued")
    # As a provision's or a repair's 202 does, it says where its job is.
    assert response["Location"] == f"/api/v1/jobs/{job['id']}"
    again = api.delete(f"{TENANTS}acme/")
    assert again.status_code == 202
    assert again.json()["job"]["id"] == job["id"]  # asking twice starts one job
    assert api.get(f"{TENANTS}acme/").json()["current_job"]["id"] == job["id"]
    acme.refresh_from_db()
    assert acme.status == TenantStatus.DEPROVISIONING
    patch = api.patch(f"{TENANTS}acme/", {"name": "x"}, format="json")
    assert patch.status_code == 409
    assert patch.json()["error"]["code"] == "tenant_deprovisioned"


def test_a_tenant_being_removed_offers_no_upgrade_and_no_plan(api, acme, template):
    # It moves to no version again: offering one, or a plan that would clone it anew, misled.
    document = copy.deepcopy(DEMO_TEMPLATE)
    document.update(key=template.key, version="2.0.0")
    template_load(document=document)
    assert api.get(f"{TENANTS}acme/").json()["template"]["upgrade_available"] == "2.0.0"

    api.delete(f"{TENANTS}acme/")

    assert api.get(f"{TENANTS}acme/").json()["template"]["upgrade_available"] is None
    plan = api.get(f"{TENANTS}acme/plan")
    assert plan.status_code == 409
    assert plan.json()["error"]["code"] == "tenant_deprovisioned"


class TestList:
    def test_it_lists_newest_first_in_pages(self, api, template):
        for n in range(5):
            TenantFactory(external_id=f"t-{n}", template=template)
        first = api.get(TENANTS, {"limit": 2}).json()
        assert [t["external_id"] for t in first["results"]] == ["t-4", "t-3"]
        second = api.get(first["next"]).json()
        assert [t["external_id"] for t in second["results"]] == ["t-2", "t-1"]
        third = api.get(second["next"]).json()
        assert [t["external_id"] for t in third["results"]] == ["t-0"]
        assert third["next"] is None

    def test_it_filters_by_status_template_and_search(self, api, acme, globex):
        other = TenantFactory(external_id="other-1", name="Other")
        Tenant.objects.filter(pk=globex.pk).update(status=TenantStatus.ACTIVE)

        def ids(**params):
            return [t["external_id"] for t in api.get(TENANTS, params).json()["results"]]

        assert ids(status="active") == ["globex"]
        assert ids(template="shop-to-erp") == ["globex", "acme"]
        assert ids(template=other.template.key) == ["other-1"]
        assert ids(search="GLOB") == ["globex"]
        assert ids(search="Acme") == ["acme"]
        assert ids(search="nothing-matches") == []

    def test_it_filters_by_integrator_io_account_and_region(self, api, acme, globex):
        """An operator whose EU account's token is refused asks which tenants it holds: the
        list had a template filter only, and a template is not an account."""
        eu = integrator_account_save(key="eu-main", name="EU", region="eu")
        eu_template = IntegrationTemplateFactory(account=eu)
        TenantFactory(external_id="eu-1", template=eu_template, account=eu)

        def ids(**params):
            response = api.get(TENANTS, params)
            assert response.status_code == 200, response.json()
            return [t["external_id"] for t in response.json()["results"]]

        default = integrator_account_default().key
        assert ids(account="eu-main") == ["eu-1"]
        assert ids(account=default) == ["globex", "acme"]
        assert ids(region="eu") == ["eu-1"]
        assert ids(region="us") == ["globex", "acme"]
        assert ids(account="eu-main", region="us") == []
        # An account key is a key, as a template's is: one that names none lists nothing.
        assert ids(account="no-such-account") == []
        assert ids(account="eu-main", status="awaiting_credentials") == ["eu-1"]
        page = api.get(TENANTS, {"region": "eu", "limit": 1}).json()
        assert page["next"] is None

    def test_an_unknown_region_is_answered_with_the_regions(self, api, acme):
        response = api.get(TENANTS, {"region": "asia"})

        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_fields"
        assert error["fields"] == {"region": ["Not a region; one of us, eu."]}

    def test_it_walks_back_with_previous_links(self, api, template):
        for n in range(5):
            TenantFactory(external_id=f"t-{n}", template=template)

        def ids(page):
            return [t["external_id"] for t in page["results"]]

        first = api.get(TENANTS, {"limit": 2}).json()
        assert first["previous"] is None
        last = api.get(api.get(first["next"]).json()["next"]).json()
        assert ids(last) == ["t-0"]
        middle = api.get(last["previous"]).json()
        assert ids(middle) == ["t-2", "t-1"]
        assert ids(api.get(middle["next"]).json()) == ["t-0"]
        top = api.get(middle["previous"]).json()
        assert ids(top) == ["t-4", "t-3"]
        assert top["previous"] is None
        assert ids(api.get(top["next"]).json()) == ["t-2", "t-1"]

    def test_it_never_skips_or_repeats_tenants_created_at_the_same_instant(self, api, template):
        TenantFactory.create_batch(7, template=template)
        Tenant.objects.update(created_at=timezone.now())
        seen, url = [], f"{TENANTS}?limit=3"
        while url:
            page = api.get(url).json()
            seen += [t["external_id"] for t in page["results"]]
            url = page["next"]
        newest_first = Tenant.objects.order_by("-id").values_list("external_id", flat=True)
        assert seen == list(newest_first)

    def test_its_links_keep_the_filters(self, api, template):
        TenantFactory.create_batch(3, template=template, status=TenantStatus.ACTIVE)
        TenantFactory.create_batch(3, template=template)
        first = api.get(TENANTS, {"status": "active", "limit": 2}).json()
        second = api.get(first["next"]).json()
        assert [t["status"] for t in first["results"] + second["results"]] == ["active"] * 3
        assert second["next"] is None

    def test_it_takes_search_text_literally(self, api, template):
        TenantFactory(external_id="a", name="Save 10% now", template=template)
        TenantFactory(external_id="b", name="Save 100 now", template=template)
        TenantFactory(external_id="c", name="Under_score", template=template)
        TenantFactory(external_id="d", name="Underscore", template=template)

        def ids(search):
            return [
                t["external_id"] for t in api.get(TENANTS, {"search": search}).json()["results"]
            ]

        assert ids("10%") == ["a"]
        assert ids("r_s") == ["c"]
        assert ids("  SAVE ") == ["b", "a"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"status": "sleeping"}, "status"),
            ({"status": ""}, "status"),
            ({"search": "x" * 201}, "search"),
            ({"template": "x" * 65}, "template"),
            ({"search": "a\x00b"}, "search"),
        ],
    )
    def test_it_refuses_a_bad_filter(self, api, params, field):
        response = api.get(TENANTS, params)
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == [field]

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            "é",
            _cursor("a|1|not-a-time"),
            _cursor("a|x|2026-01-01T00:00:00+00:00"),
            _cursor("z|1|2026-01-01T00:00:00+00:00"),
            _cursor("a|1|2026-01-01T00:00:00"),  # no time zone
            _cursor(f"a|{2**63}|2026-01-01T00:00:00+00:00"),  # past a bigint
            _cursor("a|1"),
        ],
    )
    def test_it_answers_400_naming_the_cursor_for_a_bad_one(self, api, cursor):
        response = api.get(TENANTS, {"cursor": cursor})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_fields"
        assert "follow a page's `next`" in error["fields"]["cursor"][0]

    @pytest.mark.parametrize("page_size", [1, 10, 50])
    def test_it_uses_the_same_number_of_queries_for_any_page_size(
        self, api, template, page_size, django_assert_num_queries
    ):
        TenantFactory.create_batch(50, template=template)
        other = IntegrationTemplateFactory()
        TenantFactory.create_batch(5, template=other)
        api_key_cache_clear()
        # API key (with its grant), its first last-used time (written at most once a minute),
        # the page of tenants (with their connections and newest jobs), each template's schema
        # and slots.
        with django_assert_num_queries(5):
            response = api.get(TENANTS, {"limit": page_size + 5})
        assert len(response.json()["results"]) == page_size + 5
        # The templates' large parts are then remembered by the process, and the API key's hash
        # check: what is left is the key's row by primary key (revoked? expired?) and the page.
        with django_assert_num_queries(2):
            response = api.get(TENANTS, {"limit": page_size})
        assert len(response.json()["results"]) == page_size

    def test_the_detail_takes_one_query_and_the_key_check_once_warm(
        self, api, acme, django_assert_num_queries
    ):
        api.get(f"{TENANTS}acme/")
        # The tenant joined with its connections and its two newest jobs (and the API key's
        # row by primary key, read on every request so that a revocation holds at once).
        with django_assert_num_queries(2):
            assert api.get(f"{TENANTS}acme/").status_code == 200

    def test_a_new_version_changes_no_tenant_until_it_reaches_it(self, api, acme, template):
        api.get(f"{TENANTS}acme/")
        document = copy.deepcopy(DEMO_TEMPLATE)
        document.update(key=template.key, version="2.0.0")
        document["settings_schema"]["properties"]["sync_interval_minutes"]["default"] = 30
        template_load(document=document)

        body = api.get(f"{TENANTS}acme/").json()
        assert body["settings"]["sync_interval_minutes"] == 15
        assert body["template"]["version"] == "1.0.0"
        assert body["template"]["upgrade_available"] == "2.0.0"
        created = api.post(
            TENANTS, {"external_id": "new", "name": "New", "template": template.key}, format="json"
        ).json()
        assert created["settings"]["sync_interval_minutes"] == 30
        assert created["template"]["version"] == "2.0.0"
        assert created["template"]["upgrade_available"] is None


@pytest.mark.parametrize(
    ("origins", "second"),
    [
        (["https://App.example.com", "https://app.example.com"], '"https://app.example.com"'),
        (
            ["https://app.example.com", "https://app.example.com:443/"],
            '"https://app.example.com:443/"',
        ),
    ],
)
def test_it_refuses_two_allowed_origins_that_are_the_same_origin(api, template, origins, second):
    # They were merged silently: two items sent, one stored, as no other list of the API does
    # (an item given twice is refused, naming it).
    response = api.post(TENANTS, create_body(allowed_origins=origins), format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["allowed_origins.1"]
    assert fields["allowed_origins.1"] == [
        f"{second} is the origin https://app.example.com (scheme and host in lower case, "
        "without the default port), which item 0 gives already; give each origin once."
    ]
    assert not Tenant.objects.exists()


def test_it_refuses_two_allowed_origins_that_are_the_same_origin_in_an_update(api, template):
    assert api.post(TENANTS, create_body(), format="json").status_code == 201

    response = api.patch(
        f"{TENANTS}initech",
        {"allowed_origins": ["https://a.example.com", "HTTPS://A.EXAMPLE.COM"]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["allowed_origins.1"]
    assert Tenant.objects.get().allowed_origins == ["https://app.example.com"]


def test_a_new_connect_link_is_named_by_its_location(api, acme):
    """Its 201 named no Location (the tenant's does): a client following it found nothing."""
    issued = api.post(f"{TENANTS}acme/connect-links", format="json")
    assert issued.status_code == 201
    assert issued["Location"] == f"/api/v1/tenants/acme/connect-links/{issued.json()['id']}"
    shown = api.get(issued["Location"]).json()
    assert (shown["id"], shown["state"]) == (issued.json()["id"], "active")


def test_a_deprovision_answer_gives_its_job_one_status(api, acme, monkeypatch):
    # A worker can take the job between its request and the reading of the tenant for the
    # answer: `job` said "queued" while `current_job`, the same job, said "running".
    from api import tenant_status_view

    read = tenant_status_view.tenant_view

    def worker_takes_the_job_first(**kwargs):
        Job.objects.filter(tenant=acme, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING)
        return read(**kwargs)

    monkeypatch.setattr(tenant_status_view, "tenant_view", worker_takes_the_job_first)

    body = api.delete(f"{TENANTS}acme/").json()

    assert body["current_job"]["id"] == body["job"]["id"]
    assert body["job"] == body["current_job"]
    assert body["job"]["status"] == "running"

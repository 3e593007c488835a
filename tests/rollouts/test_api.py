"""The rollouts API: start and dry run, list, detail, tenants, controls, pins, one tenant's
version; every refusal is a 400, 404 or 409 in the API's error shape."""

import copy

import pytest

from provisioning.models import Job, JobKind
from rollouts.driver import rollout_advance
from rollouts.models import Rollout
from tenants.models import TemplateVersion, Tenant
from tests.rollouts.conftest import finish_jobs, version_publish

URL = "/api/v1/templates/shop-to-erp/rollouts"
CANARY = {"to_version": "2.0.0", "strategy": "canary", "canary_tenants": ["t1"], "wave_size": 2}


@pytest.fixture
def started(api, shop, five):
    response = api.post(URL, CANARY, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_dry_run_answers_the_plan_and_starts_nothing(api, shop, five):
    body = {**CANARY, "dry_run": True, "max_failure_rate": 0.2, "pause_seconds": 60}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200, response.json()
    summary = response.json()
    assert summary["dry_run"] is True and summary["tenants"] == 5
    assert [w["external_ids"] for w in summary["waves"]] == [["t1"], ["t2", "t3"], ["t4", "t5"]]
    assert not Rollout.objects.exists()


def test_a_dry_run_names_the_tenants_whose_settings_do_not_fit_the_version(api, shop, five):
    # t2 has a setting 2.0.0 does not know: its upgrade would be refused and fail its wave
    # (halting the rollout); the dry run says so, rather than leave it out of the estimates.
    Tenant.objects.filter(external_id="t2").update(settings={"refund_lookback_days": 90})

    response = api.post(URL, {**CANARY, "dry_run": True}, format="json")

    assert response.status_code == 200, response.json()
    summary = response.json()
    assert set(summary["problems"]) == {"t2"}
    problem = summary["problems"]["t2"]
    assert problem["code"] == "settings_invalid_for_version"
    assert "refund_lookback_days" in str(problem["fields"])
    assert "t2" not in summary.get("estimates", {})


def test_it_starts_a_rollout_and_shows_its_progress(api, started, shop):
    assert started["status"] == "running" and started["wave_count"] == 3
    assert started["progress"]["states"]["pending"] == 5
    rollout_advance(rollout_id=started["id"])
    detail = api.get(f"/api/v1/rollouts/{started['id']}").json()
    assert detail["current_wave"] == 1
    assert detail["progress"]["waves"][0]["states"]["queued"] == 1
    assert [w["tenants"] for w in detail["progress"]["waves"]] == [1, 2, 2]

    listing = api.get("/api/v1/rollouts?template=shop-to-erp&status=running").json()
    assert [r["id"] for r in listing["results"]] == [started["id"]]
    page = api.get(f"/api/v1/rollouts/{started['id']}/tenants?limit=2").json()
    assert [e["external_id"] for e in page["results"]] == ["t1", "t2"]
    assert page["results"][0]["state"] == "queued" and page["results"][0]["job"]
    following = api.get(page["next"]).json()
    assert [e["external_id"] for e in following["results"]] == ["t3", "t4"]
    queued = api.get(f"/api/v1/rollouts/{started['id']}/tenants?state=queued").json()
    assert [e["external_id"] for e in queued["results"]] == ["t1"]


def test_pause_resume_abort_and_rollback(api, started):
    base = f"/api/v1/rollouts/{started['id']}"
    assert api.post(f"{base}/pause").json()["status"] == "paused"
    again = api.post(f"{base}/pause")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_rollout_transition"
    assert api.post(f"{base}/resume").json()["status"] == "running"
    rollout_advance(rollout_id=started["id"])
    finish_jobs(Rollout.objects.get(pk=started["id"]))
    assert api.post(f"{base}/abort").json()["status"] == "aborted"
    assert api.post(f"{base}/rollback").json()["status"] == "rolling_back"
    rollout_advance(rollout_id=started["id"])
    job = Job.objects.get(tenant__external_id="t1", target_version__version="1.0.0")
    assert job.kind == JobKind.UPGRADE


def test_a_version_a_rollout_is_taking_tenants_to_cannot_be_retired(api, started, shop):
    """Retired, a version is no rollout target: the rollout going on would still have moved
    every tenant of its later waves to it (or, halted, on resume). Refused while the rollout
    can still queue a wave; once it is aborted, the version is retired."""
    version_publish(shop, "3.0.0")  # 2.0.0 is no longer the newest
    base = f"/api/v1/rollouts/{started['id']}"
    retire = "/api/v1/templates/shop-to-erp/versions/2.0.0/retire"

    response = api.post(retire)

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "rollout_in_progress"
    assert started["id"] in error["message"] and "abort" in error["message"]
    assert TemplateVersion.objects.get(template=shop, version="2.0.0").retired_at is None
    assert api.post(f"{base}/pause").status_code == 200
    assert api.post(retire).status_code == 409  # a paused one may be resumed

    assert api.post(f"{base}/abort").json()["status"] == "aborted"
    response = api.post(retire)
    assert response.status_code == 200, response.json()
    assert response.json()["retired_at"] is not None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**CANARY, "to_version": "9.9.9"}, 400, "invalid_fields"),
        # A refused body is one code, whichever rule refused it (it was invalid_rollout here).
        ({**CANARY, "canary_tenants": ["ghost"]}, 400, "invalid_fields"),
        ({**CANARY, "strategy": "big-bang"}, 400, "invalid_fields"),
        ({**CANARY, "wave_size": 0}, 400, "invalid_fields"),
        ({**CANARY, "max_failure_rate": 1.5}, 400, "invalid_fields"),
        ({**CANARY, "wave_percent": 10}, 400, "invalid_fields"),  # both sizes
        ({"to_version": "2.0.0", "strategy": "percent"}, 400, "invalid_fields"),
        ({**CANARY, "colour": "blue"}, 400, "invalid_fields"),
        ({**CANARY, "to_version": "1.0.0"}, 409, "nothing_to_roll_out"),
    ],
)
def test_bad_requests_are_refused_clearly(api, shop, five, body, status, code):
    response = api.post(URL, body, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code


def test_unknown_things_are_404s(api, shop):
    assert api.post("/api/v1/templates/nope/rollouts", CANARY, format="json").status_code == 404
    for path in ("/api/v1/rollouts/not-a-uuid", "/api/v1/rollouts/" + "0" * 32 + "/tenants"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "rollout_not_found"
    assert api.post("/api/v1/rollouts/not-a-uuid/pause").status_code == 404


def test_a_second_rollout_and_a_retired_version_are_conflicts(api, started, shop):
    second = api.post(URL, {**CANARY, "canary_tenants": ["t2"]}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "rollout_in_progress"
    api.post(f"/api/v1/rollouts/{started['id']}/abort")
    shop.v2.retired_at = shop.v2.published_at
    shop.v2.save()
    retired = api.post(URL, CANARY, format="json")
    assert retired.status_code == 409
    assert retired.json()["error"]["code"] == "version_retired"


def test_pin_unpin_and_one_tenants_upgrade(api, shop, five):
    pinned = api.post("/api/v1/tenants/t1/pin")
    assert pinned.status_code == 200
    assert pinned.json() == {"external_id": "t1", "version": "1.0.0", "version_pinned": True}
    assert api.post("/api/v1/tenants/t1/unpin").json()["version_pinned"] is False
    assert api.post("/api/v1/tenants/ghost/pin").status_code == 404

    response = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "2.0.0"}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["kind"] == "upgrade"
    assert response["Location"] == f"/api/v1/jobs/{response.json()['id']}"

    unknown = api.post("/api/v1/tenants/t2/upgrade", {"to_version": "7"}, format="json")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "invalid_fields")
    same = api.post("/api/v1/tenants/t2/upgrade", {"to_version": "1.0.0"}, format="json")
    assert (same.status_code, same.json()["error"]["code"]) == (409, "tenant_version_conflict")
    missing = api.post("/api/v1/tenants/t2/upgrade", {}, format="json")
    assert missing.status_code == 400


def test_one_tenant_back_to_a_version_its_settings_do_not_fit_is_refused_up_front(api, shop, five):
    # 2.0.0 brought a setting the tenant has changed; 1.0.0 does not have it. Moving the
    # tenant back is refused at once, naming the setting, instead of a job that fails and
    # leaves a working tenant degraded; once the setting is back to its default, it moves.
    schema = copy.deepcopy(shop.v2.settings_schema)
    schema["properties"]["refund_lookback_days"] = {"type": "integer", "default": 30}
    TemplateVersion.objects.filter(pk=shop.v2.pk).update(settings_schema=schema)
    TemplateVersion.objects.filter(pk=shop.v1.pk).update(snapshot=shop.v2.snapshot)
    Tenant.objects.filter(external_id="t1").update(
        template_version=shop.v2, settings={"refund_lookback_days": 90}
    )

    response = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "1.0.0"}, format="json")

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "settings_invalid_for_version"
    assert "refund_lookback_days" in str(error["fields"])
    assert "null" in error["message"]  # how to change them: back to the default
    assert not Job.objects.exists()
    assert Tenant.objects.get(external_id="t1").status == "active"

    cleared = api.patch(
        "/api/v1/tenants/t1", {"settings": {"refund_lookback_days": None}}, format="json"
    )
    assert cleared.status_code == 200, cleared.json()
    Job.objects.all().delete()  # the settings change's job, finished as the engine would
    moved = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "1.0.0"}, format="json")
    assert moved.status_code == 202, moved.json()


def test_a_start_with_an_idempotency_key_is_answered_once(api, shop, five):
    headers = {"HTTP_IDEMPOTENCY_KEY": "rollout-1"}
    first = api.post(URL, CANARY, format="json", **headers)
    second = api.post(URL, CANARY, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert Rollout.objects.count() == 1


@pytest.mark.parametrize(
    "raw",
    [
        b'{"to_version": "2.0.0", "strategy": "percent", "wave_percent": 10, '
        b'"max_failure_rate": NaN}',
        b'{"to_version": "2.0.0", "strategy": "canary", "canary_tenants": ["t1"], '
        b'"wave_size": 100000000000000000000}',
        b'{"to_version": "2.0.0", "strategy": "percent", "wave_percent": 10, '
        b'"pause_seconds": 1e400}',
    ],
)
def test_out_of_range_numbers_are_400s_never_500s(api, shop, five, raw):
    response = api.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 400, response.content


def test_an_unknown_version_is_a_404_in_a_path_or_query_and_a_bad_field_in_a_body(api, shop, five):
    in_query = api.get("/api/v1/tenants/t1/plan", {"version": "9.9.9"})
    in_path = api.get("/api/v1/templates/shop-to-erp/versions/1.0.0/diff/9.9.9")
    for response in (in_query, in_path):
        assert response.status_code == 404, response.json()
        assert response.json()["error"]["code"] == "template_version_not_found"
        assert "9.9.9" in response.json()["error"]["message"]

    rollout = api.post(URL, {**CANARY, "to_version": "9.9.9"}, format="json")
    upgrade = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "9.9.9"}, format="json")
    for response in (rollout, upgrade):
        assert response.status_code == 400, response.json()
        error = response.json()["error"]
        assert error["code"] == "invalid_fields"
        assert list(error["fields"]) == ["to_version"]


@pytest.mark.parametrize("status", ["deprovisioning", "deprovisioned"])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tenants/t1/pin", None),
        ("/api/v1/tenants/t1/unpin", None),
        ("/api/v1/tenants/t1/upgrade", {"to_version": "2.0.0"}),
        ("/api/v1/tenants/t1/upgrade", {"to_version": "1.0.0"}),  # its own version
    ],
)
def test_a_tenant_being_removed_is_neither_pinned_nor_moved(api, shop, five, status, path, body):
    Tenant.objects.filter(external_id="t1").update(status=status, version_pinned=True)

    response = api.post(path, body, format="json")

    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "tenant_deprovisioned"
    assert "can no longer be changed" in response.json()["error"]["message"]
    tenant = Tenant.objects.get(external_id="t1")
    assert tenant.version_pinned is True and not tenant.jobs.exists()


def test_a_version_without_a_snapshot_is_refused_before_anything_is_queued(api, shop, five):
    """Every upgrade to such a version fails (version_without_snapshot): a rollout to it, its
    dry run and one tenant's move are refused at once, with that code, rather than started
    and halted by a wave of failed jobs."""
    shop.v2.snapshot = {}
    shop.v2.save()
    for body in ({**CANARY, "dry_run": True}, CANARY):
        response = api.post(URL, body, format="json")
        assert response.status_code == 409, response.json()
        assert response.json()["error"]["code"] == "version_without_snapshot"
        assert "2.0.0" in response.json()["error"]["message"]
    moved = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "2.0.0"}, format="json")
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "version_without_snapshot")
    assert not Rollout.objects.exists()
    assert not Job.objects.filter(kind=JobKind.UPGRADE).exists()


def test_an_unknown_status_or_state_filter_is_answered_with_the_values_taken(api, started):
    """As the job, run and delivery lists' filters are; they said only '"bogus" is not a
    valid choice.'"""
    listing = api.get("/api/v1/rollouts?status=bogus")
    assert listing.status_code == 400
    assert listing.json()["error"]["fields"]["status"] == [
        "Not a rollout status; one of running, paused, halted, completed, aborted, "
        "rolling_back, rolled_back."
    ]
    entries = api.get(f"/api/v1/rollouts/{started['id']}/tenants?state=bogus")
    assert entries.status_code == 400
    message = entries.json()["error"]["fields"]["state"][0]
    assert message.startswith("Not a tenant's state in a rollout; one of pending, ")
    assert "skipped_gone" in message and message.endswith("rolled_back.")


def test_a_pinned_canary_is_said_to_be_skipped_not_dropped_silently(api, shop, five):
    api.post("/api/v1/tenants/t1/pin")
    body = {**CANARY, "canary_tenants": ["t1", "t2"]}

    dry = api.post(URL, {**body, "dry_run": True}, format="json").json()
    assert [w["external_ids"] for w in dry["waves"]] == [["t2"], ["t3", "t4"], ["t5"]]
    assert dry["skipped"] == [
        {"external_id": "t1", "reason": "skipped_pinned", "version": "1.0.0", "canary": True}
    ]

    started = api.post(URL, body, format="json").json()
    entries = api.get(f"/api/v1/rollouts/{started['id']}/tenants").json()["results"]
    assert {e["external_id"]: (e["wave"], e["state"], e["canary"]) for e in entries} == {
        "t1": (0, "skipped_pinned", True),
        "t2": (1, "pending", True),
        "t3": (2, "pending", False),
        "t4": (2, "pending", False),
        "t5": (3, "pending", False),
    }


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_canary_rollout_whose_every_canary_is_skipped_is_refused(api, shop, five, dry_run):
    """It started with no canary wave at all: the first wave was a plain one."""
    api.post("/api/v1/tenants/t1/pin")
    Tenant.objects.filter(external_id="t2").update(template_version=shop.v2)
    body = {**CANARY, "canary_tenants": ["t1", "t2"], "dry_run": dry_run}

    response = api.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"] == {
        "canary_tenants": [
            "No canary would move, so there would be no canary wave: t1 is pinned to "
            "1.0.0, t2 is already on 2.0.0. Name a canary that moves, or use the percent "
            "strategy."
        ]
    }
    assert not Rollout.objects.exists()


def test_a_refused_control_says_what_the_rollout_can_and_cannot_be(api, started):
    """It read 'it cannot be made paused (only from running)'."""
    base = f"/api/v1/rollouts/{started['id']}"
    api.post(f"{base}/pause")
    assert api.post(f"{base}/pause").json()["error"]["message"] == (
        "The rollout is paused; it cannot be paused (only a running rollout can be)."
    )
    api.post(f"{base}/abort")
    assert api.post(f"{base}/resume").json()["error"]["message"] == (
        "The rollout is aborted; it cannot be resumed (only a paused or halted rollout can be)."
    )
    assert api.post(f"{base}/abort").json()["error"]["message"] == (
        "The rollout is aborted; it cannot be aborted (only a running, paused or halted "
        "rollout can be)."
    )


@pytest.mark.parametrize(
    ("tenants", "max_failure_rate", "reason"),
    [
        # 1 of 300 is 0.33%: it read "(0%), more than the 0% allowed".
        (300, 0.0, "Wave 1: 1 of 300 upgrades failed (0.33%), more than the 0% allowed."),
        (2, 0.001, "Wave 1: 1 of 2 upgrades failed (50%), more than the 0.1% allowed."),
        # 1 of 3 is 33.33...%: it read "(33%), more than the 33% allowed".
        (3, 0.333, "Wave 1: 1 of 3 upgrades failed (33.33%), more than the 33.3% allowed."),
    ],
)
def test_a_halted_rollouts_reason_gives_its_percentages_exactly(
    api, shop, tenants, max_failure_rate, reason
):
    Tenant.objects.bulk_create(
        [
            Tenant(
                external_id=f"w{n:03}",
                name=f"W{n}",
                template=shop,
                template_version=shop.v1,
                status="active",
                integration_id=f"int-w{n}",
            )
            for n in range(tenants)
        ]
    )
    body = {
        "to_version": "2.0.0",
        "strategy": "percent",
        "wave_percent": 100,
        "max_failure_rate": max_failure_rate,
    }
    started = api.post(URL, body, format="json").json()
    rollout_advance(rollout_id=started["id"])
    finish_jobs(Rollout.objects.get(pk=started["id"]), fail=("w000",))
    rollout_advance(rollout_id=started["id"])

    detail = api.get(f"/api/v1/rollouts/{started['id']}").json()
    assert (detail["status"], detail["halt_reason"]) == ("halted", reason)


def test_moving_a_tenant_back_while_its_upgrade_is_queued_says_how(api, shop, five):
    # "The tenant is already on version 1.0.0" while a job was about to move it to 2.0.0:
    # the host app read "nothing will change".
    queued = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "2.0.0"}, format="json")
    assert queued.status_code == 202, queued.json()

    back = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "1.0.0"}, format="json")

    assert back.status_code == 409
    error = back.json()["error"]
    assert error["code"] == "tenant_version_conflict"
    assert "upgrade to 2.0.0 is queued" in error["message"]
    assert f"/api/v1/jobs/{queued.json()['id']}/cancel" in error["message"]
    assert Job.objects.count() == 1


def test_an_upgrade_job_says_which_version_it_moves_the_tenant_to(api, shop, five):
    """A job of kind upgrade (one tenant's, a rollout's or its rollback's) did not say to
    which version; the host app had to guess from the rollout."""
    moved = api.post("/api/v1/tenants/t1/upgrade", {"to_version": "2.0.0"}, format="json")
    assert moved.status_code == 202, moved.json()
    assert moved.json()["target_version"] == "2.0.0"
    [listed] = api.get("/api/v1/tenants/t1/jobs").json()["results"]
    assert (listed["kind"], listed["target_version"]) == ("upgrade", "2.0.0")
    assert api.get(f"/api/v1/jobs/{listed['id']}").json()["target_version"] == "2.0.0"

    repair = api.post("/api/v1/tenants/t2/repair")
    assert repair.status_code == 202, repair.json()
    assert repair.json()["target_version"] is None

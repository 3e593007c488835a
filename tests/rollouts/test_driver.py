"""The rollout services and the driver, with the engine's part played by the test
(`finish_jobs`): waves in order, the halt, pins, pause/resume/abort, rollback."""

import copy
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from provisioning.models import Job, JobKind
from rollouts.driver import rollout_advance
from rollouts.errors import (
    NothingToRollOut,
    RolloutInProgress,
    RolloutInvalid,
    RolloutTransitionError,
    TenantVersionConflict,
    VersionRetired,
)
from rollouts.models import Rollout, RolloutStatus, RolloutTenant
from rollouts.plan import RolloutSpec
from rollouts.selectors import rollout_progress
from rollouts.services import (
    rollout_abort,
    rollout_dry_run,
    rollout_pause,
    rollout_resume,
    rollout_rollback,
    rollout_start,
    tenant_pin,
    tenant_rollback,
)
from tenants.models import TemplateVersion, Tenant
from tests.rollouts.conftest import S, canary, finish_jobs, states, upgradable_tenant, wave_of
from webhooks.models import Event


def advance(rollout: Rollout) -> Rollout:
    rollout_advance(rollout_id=rollout.pk)
    rollout.refresh_from_db()
    return rollout


def start(shop, spec: RolloutSpec) -> Rollout:
    return rollout_start(template=shop, to_version=shop.v2, spec=spec, created_by="test")


def event_types() -> list[str]:
    return list(Event.objects.order_by("created_at").values_list("event_type", flat=True))


def test_waves_go_in_order_canary_first_each_after_the_last_has_finished(shop, five):
    rollout = start(shop, canary("t3", wave_size=2))
    assert rollout.wave_count == 3
    assert [wave_of(rollout, n) for n in (1, 2, 3)] == [["t3"], ["t1", "t2"], ["t4", "t5"]]

    advance(rollout)
    assert states(rollout) == {
        "t3": S.QUEUED,
        "t1": S.PENDING,
        "t2": S.PENDING,
        "t4": S.PENDING,
        "t5": S.PENDING,
    }
    job = Job.objects.get(tenant__external_id="t3")
    assert (job.kind, job.target_version) == (JobKind.UPGRADE, shop.v2)

    advance(rollout)  # the canary has not finished: nothing more
    assert Job.objects.count() == 1

    for wave in (1, 2, 3):
        assert finish_jobs(rollout) == len(wave_of(rollout, wave))
        advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED
    assert rollout.next_wave_at is None  # no wave follows the last one
    assert set(states(rollout).values()) == {S.SUCCEEDED}
    assert {t.template_version for t in five if not t.refresh_from_db()} == {shop.v2}
    assert event_types() == [
        "rollout.started",
        *["tenant.upgraded"] * 5,
        "rollout.completed",
    ]
    upgraded = Event.objects.filter(event_type="tenant.upgraded", tenant_external_id="t3").get()
    assert upgraded.data["from_version"] == "1.0.0" and upgraded.data["to_version"] == "2.0.0"


def test_a_failed_canary_halts_the_rollout_and_no_other_wave_is_queued(shop, five):
    rollout = start(shop, canary("t1", wave_size=2, max_failure_rate=0.25))
    advance(rollout)
    finish_jobs(rollout, fail=("t1",))

    advance(rollout)

    assert rollout.status == RolloutStatus.HALTED
    assert "Wave 1: 1 of 1 upgrades failed (100%)" in rollout.halt_reason
    assert Job.objects.count() == 1
    assert states(rollout)["t1"] == S.FAILED
    assert "reconcile_failed" in rollout.entries.get(tenant__external_id="t1").error
    halted = Event.objects.get(event_type="rollout.halted")
    assert halted.tenant is None and halted.data["failure_rate"] == 1.0
    advance(rollout)  # halted stays halted
    assert Job.objects.count() == 1

    rollout_resume(rollout=rollout)  # a person decided to go on
    advance(rollout)
    assert sorted(t for t, s in states(rollout).items() if s == S.QUEUED) == ["t2", "t3"]


def test_a_halted_rollout_names_no_time_for_a_next_wave(shop, five):
    # Nothing is queued while it is halted, and a halt in the last wave has no next wave at
    # all: the API and the admin must not show a time at which the next wave would go out.
    spec = RolloutSpec(strategy="canary", canary_tenants=["t1"], wave_size=4, pause_seconds=600)
    rollout = start(shop, spec)
    advance(rollout)
    finish_jobs(rollout, fail=("t1",))

    advance(rollout)

    assert rollout.status == RolloutStatus.HALTED
    assert rollout.next_wave_at is None
    rollout_resume(rollout=rollout)  # the next wave is due at once
    advance(rollout)
    assert rollout.status == RolloutStatus.RUNNING and rollout.current_wave == 2
    finish_jobs(rollout, fail=("t2",))

    advance(rollout)  # the last wave halts

    assert rollout.status == RolloutStatus.HALTED and rollout.current_wave == rollout.wave_count
    assert rollout.next_wave_at is None
    rollout_resume(rollout=rollout)
    advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED and rollout.next_wave_at is None


def test_rollouts_halted_before_keep_no_time_for_a_next_wave(shop, five):
    # Halted while a halt still kept the end of the pause: the migration clears it, and
    # leaves every other rollout's as it is.
    migration = importlib.import_module("rollouts.migrations.0004_halted_rollouts_next_wave_at")
    halted = start(shop, canary("t1"))
    Rollout.objects.filter(pk=halted.pk).update(
        status=RolloutStatus.HALTED, next_wave_at=timezone.now()
    )
    paused_at = timezone.now()
    paused = Rollout.objects.create(
        template=shop,
        to_version=shop.v1,
        strategy="percent",
        wave_percent=50,
        max_failure_rate=0,
        status=RolloutStatus.PAUSED,
        next_wave_at=paused_at,
        created_by="test",
    )

    migration.halted_next_wave_at_clear(django_apps, None)

    assert Rollout.objects.get(pk=halted.pk).next_wave_at is None
    assert Rollout.objects.get(pk=paused.pk).next_wave_at == paused_at


def test_failures_within_the_allowed_rate_do_not_halt(shop, five):
    rollout = start(shop, canary("t1", wave_size=4, max_failure_rate=0.25))
    advance(rollout)
    finish_jobs(rollout)
    advance(rollout)
    finish_jobs(rollout, fail=("t2",))  # 1 of 4: 25%, not more than allowed
    advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED
    assert states(rollout)["t2"] == S.FAILED


def test_pinned_tenants_are_skipped_and_reported(shop, five):
    tenant_pin(tenant=five[1], pinned=True)
    upgradable_tenant(shop, "t6", template_version=shop.v2)  # already there
    spec = RolloutSpec(strategy="percent", wave_percent=50)

    summary = rollout_dry_run(template=shop, to_version=shop.v2, spec=spec)
    assert not Rollout.objects.exists()  # a dry run writes nothing
    assert summary["tenants"] == 4
    assert [w["external_ids"] for w in summary["waves"]] == [["t1", "t3"], ["t4", "t5"]]
    assert summary["skipped"] == [
        {"external_id": "t2", "reason": "skipped_pinned", "version": "1.0.0", "canary": False},
        {"external_id": "t6", "reason": "skipped_already", "version": "2.0.0", "canary": False},
    ]
    assert sorted(summary["estimates"]) == ["t1", "t3", "t4", "t5"]  # the pinned one: none

    rollout = start(shop, spec)
    assert states(rollout)["t2"] == S.SKIPPED_PINNED and states(rollout)["t6"] == S.SKIPPED_ALREADY
    # Pinned after the start, before its wave: skipped when the wave comes.
    tenant_pin(tenant=five[3], pinned=True)
    advance(rollout)
    finish_jobs(rollout)
    advance(rollout)
    assert states(rollout)["t4"] == S.SKIPPED_PINNED
    assert not Job.objects.filter(tenant=five[3]).exists()


def test_the_dry_run_shows_the_engines_estimates_when_it_has_them(shop, five, monkeypatch):
    from rollouts import plan

    monkeypatch.setattr(
        plan, "rollout_cost_estimate", lambda tenant, to_version: {"changes": 2, "api_calls": 5}
    )
    summary = rollout_dry_run(template=shop, to_version=shop.v2, spec=canary("t1"))
    assert summary["estimates"]["t1"] == {"changes": 2, "api_calls": 5}
    assert len(summary["estimates"]) == 5


def test_pause_lets_queued_jobs_finish_and_queues_nothing_until_resumed(shop, five):
    rollout = start(shop, canary("t1"))
    advance(rollout)
    rollout_pause(rollout=rollout)
    finish_jobs(rollout)

    advance(rollout)
    assert rollout.status == RolloutStatus.PAUSED
    assert states(rollout)["t1"] == S.SUCCEEDED  # recorded while paused
    assert Job.objects.count() == 1
    with pytest.raises(RolloutTransitionError):
        rollout_pause(rollout=rollout)

    rollout_resume(rollout=rollout)
    advance(rollout)
    assert wave_of(rollout, 2) == sorted(t for t, s in states(rollout).items() if s == S.QUEUED)


def test_abort_stops_queuing_and_the_running_jobs_still_finish(shop, five):
    rollout = start(shop, canary("t1"))
    advance(rollout)
    rollout_abort(rollout=rollout)
    finish_jobs(rollout)
    advance(rollout)

    assert rollout.status == RolloutStatus.ABORTED and rollout.finished_at is not None
    assert rollout.next_wave_at is None
    assert states(rollout)["t1"] == S.SUCCEEDED
    assert Job.objects.count() == 1
    with pytest.raises(RolloutTransitionError):
        rollout_resume(rollout=rollout)
    # Another rollout of the template may start now.
    start(shop, canary("t2"))


def test_an_abort_and_the_end_of_a_rollback_are_sent_to_the_host_app(shop, five):
    """A host app following its rollouts by webhooks learns how each one ends: an abort, and
    a rollback once every tenant is back, each once (a driver step run again sends nothing
    more), with the tenants' counts by state."""
    rollout = start(shop, canary("t1", wave_size=2))
    advance(rollout)
    finish_jobs(rollout)
    advance(rollout)  # wave 2 (t2, t3) queued

    rollout_abort(rollout=rollout)

    aborted = Event.objects.get(event_type="rollout.aborted")
    assert aborted.tenant is None
    assert aborted.data["rollout_id"] == str(rollout.pk)
    assert aborted.data["status"] == RolloutStatus.ABORTED
    assert aborted.data["tenants"][S.SUCCEEDED] == 1
    assert aborted.data["tenants"][S.QUEUED] == 2
    assert aborted.data["tenants"][S.NOT_STARTED] == 2

    finish_jobs(rollout)
    advance(rollout)
    rollout_rollback(rollout=rollout)
    for _ in range(2):
        advance(rollout)
        finish_jobs(rollout, rollback=True)
    advance(rollout)
    assert rollout.status == RolloutStatus.ROLLED_BACK
    advance(rollout)  # nothing left to do: nothing sent twice

    rolled_back = Event.objects.get(event_type="rollout.rolled_back")
    assert rolled_back.tenant is None and rolled_back.data["status"] == RolloutStatus.ROLLED_BACK
    assert rolled_back.data["tenants"][S.ROLLED_BACK] == 3
    assert event_types() == [
        "rollout.started",
        "tenant.upgraded",
        "rollout.aborted",
        *["tenant.upgraded"] * 2,
        *["tenant.upgraded"] * 3,
        "rollout.rolled_back",
    ]


def test_after_an_abort_the_tenants_whose_wave_never_came_say_so_not_pending(shop, five):
    """Nothing more is queued after an abort: a tenant still waiting for its wave (or for
    another of its jobs to end) will never move in this rollout, and reads not_started with
    why, instead of a pending that would never end."""
    rollout = start(shop, canary("t1", wave_size=2))
    advance(rollout)
    finish_jobs(rollout)
    advance(rollout)  # wave 2 (t2, t3) queued
    rollout_abort(rollout=rollout)
    finish_jobs(rollout)
    advance(rollout)

    assert states(rollout) == {
        "t1": S.SUCCEEDED,
        "t2": S.SUCCEEDED,
        "t3": S.SUCCEEDED,
        "t4": S.NOT_STARTED,
        "t5": S.NOT_STARTED,
    }
    entry = RolloutTenant.objects.get(rollout=rollout, tenant__external_id="t4")
    assert (
        entry.error == "The rollout was aborted before its upgrade was queued; it stays on 1.0.0."
    )
    assert rollout_progress(rollout=rollout)["waves"][2]["states"][S.NOT_STARTED] == 2


def test_rollback_queues_jobs_back_to_each_tenants_previous_version(shop, five):
    upgradable_tenant(shop, "t0", template_version=shop.v2)  # skipped: already there
    v15 = shop.versions.create(
        version="1.5.0",
        source_integration_id="x",
        digest="d15",
        slots=shop.v1.slots,
        settings_schema=shop.v1.settings_schema,
        snapshot={"integration": {"_id": "x"}, "flows": []},
    )
    five[4].template_version = v15  # t5 comes from 1.5.0
    five[4].save()
    rollout = start(shop, canary("t1", wave_size=2, max_failure_rate=0.5))
    for _ in range(3):
        advance(rollout)
        finish_jobs(rollout, fail=("t4",))
    advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED
    assert states(rollout)["t4"] == S.FAILED

    rollout_rollback(rollout=rollout)
    advance(rollout)

    assert rollout.status == RolloutStatus.ROLLING_BACK
    assert rollout.rollback_wave == 3  # the last wave first
    back = {
        e.tenant.external_id: e.rollback_job.target_version.version
        for e in rollout.entries.filter(rollback_job__isnull=False)
    }
    # t4 failed: it never moved, but its job may have changed its integration part-way, which
    # a reconcile to its own version puts back.
    assert back == {"t4": "1.0.0", "t5": "1.5.0"}
    finish_jobs(rollout, rollback=True)
    advance(rollout)
    assert rollout.rollback_wave == 2
    finish_jobs(rollout, rollback=True)
    advance(rollout)
    finish_jobs(rollout, rollback=True)
    advance(rollout)

    assert rollout.status == RolloutStatus.ROLLED_BACK
    assert rollout.next_wave_at is None
    assert states(rollout) == {
        "t0": S.SKIPPED_ALREADY,
        "t1": S.ROLLED_BACK,
        "t2": S.ROLLED_BACK,
        "t3": S.ROLLED_BACK,
        "t4": S.FAILED,
        "t5": S.ROLLED_BACK,
    }
    for tenant in five:
        tenant.refresh_from_db()
    assert [t.template_version.version for t in five] == ["1.0.0"] * 4 + ["1.5.0"]
    assert Event.objects.filter(event_type="tenant.upgraded").count() == 8  # 4 there, 4 back


def test_rollback_leaves_a_tenant_that_moved_again_since(shop, five):
    rollout = start(shop, canary("t1", wave_size=10))
    advance(rollout)
    finish_jobs(rollout)
    rollout_abort(rollout=rollout)
    five[0].template_version = shop.v1  # moved back by hand meanwhile
    five[0].save()
    rollout_rollback(rollout=rollout)
    advance(rollout)
    assert rollout.status == RolloutStatus.ROLLED_BACK
    entry = rollout.entries.get(tenant=five[0])
    assert entry.state == S.SUCCEEDED and "another version" in entry.rollback_error


def rolled_out(shop) -> Rollout:
    """A rollout to v2 with a canary (t1), every wave's jobs finished: completed."""
    rollout = start(shop, canary("t1", wave_size=10))
    for _wave in range(rollout.wave_count):
        advance(rollout)
        finish_jobs(rollout)
    advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED
    return rollout


def rolled_back(rollout: Rollout) -> None:
    """Rolled back, every wave's rollback jobs finished (last wave first)."""
    rollout_rollback(rollout=rollout)
    for _wave in range(rollout.wave_count):
        advance(rollout)
        finish_jobs(rollout, rollback=True)
    advance(rollout)
    assert rollout.status == RolloutStatus.ROLLED_BACK


def test_rollback_leaves_a_tenant_whose_settings_do_not_fit_its_old_version_untouched(shop, five):
    # t1 changed a setting only 2.0.0 has: its job back to 1.0.0 could only fail, and a failed
    # job leaves a working tenant degraded. It is not queued; the entry says why and how.
    schema = copy.deepcopy(shop.v2.settings_schema)
    schema["properties"]["refund_lookback_days"] = {"type": "integer", "default": 30}
    TemplateVersion.objects.filter(pk=shop.v2.pk).update(settings_schema=schema)
    rollout = rolled_out(shop)
    Tenant.objects.filter(pk=five[0].pk).update(settings={"refund_lookback_days": 90})

    rolled_back(rollout)
    entry = rollout.entries.get(tenant=five[0])
    assert entry.rollback_job is None and entry.state == S.SUCCEEDED
    assert entry.rollback_error.startswith("settings_invalid_for_version: ")
    assert "refund_lookback_days" in entry.rollback_error
    five[0].refresh_from_db()
    assert (five[0].template_version, five[0].status) == (shop.v2, "active")
    assert {e.state for e in rollout.entries.exclude(tenant=five[0])} == {S.ROLLED_BACK}


def test_rollback_leaves_a_tenant_whose_old_version_has_no_snapshot_untouched(shop, five):
    # t2 came from a version published --offline: its upgrade job back to it could only fail
    # (version_without_snapshot, nothing to reconcile to) and leave a working tenant degraded.
    offline = shop.versions.create(
        version="1.5.0",
        source_integration_id="x",
        digest="d15",
        slots=shop.v1.slots,
        settings_schema=shop.v1.settings_schema,
    )
    Tenant.objects.filter(pk=five[1].pk).update(template_version=offline)
    rollout = rolled_out(shop)

    rolled_back(rollout)
    entry = rollout.entries.get(tenant=five[1])
    assert entry.rollback_job is None and entry.state == S.SUCCEEDED
    assert entry.rollback_error.startswith("version_without_snapshot: ")
    assert "1.5.0" in entry.rollback_error
    assert not Job.objects.filter(tenant=five[1], target_version=offline).exists()
    five[1].refresh_from_db()
    assert (five[1].template_version, five[1].status) == (shop.v2, "active")
    assert {e.state for e in rollout.entries.exclude(tenant=five[1])} == {S.ROLLED_BACK}


def test_it_refuses_what_cannot_be_rolled_out(shop, five):
    with pytest.raises(RolloutInvalid) as invalid:
        start(shop, canary("nobody"))
    assert "canary_tenants" in invalid.value.fields
    with pytest.raises(RolloutInvalid) as invalid:
        start(shop, RolloutSpec(strategy="percent", wave_percent=0, max_failure_rate=2))
    assert set(invalid.value.fields) == {"wave_percent", "max_failure_rate"}
    start(shop, canary("t1"))
    with pytest.raises(RolloutInProgress):
        start(shop, canary("t2"))
    shop.v2.retired_at = shop.v2.published_at
    shop.v2.save()
    with pytest.raises(VersionRetired):
        rollout_dry_run(template=shop, to_version=shop.v2, spec=canary("t1"))


def test_nothing_to_roll_out_is_refused(shop):
    upgradable_tenant(shop, "t1", template_version=shop.v2)
    with pytest.raises(NothingToRollOut):
        start(shop, RolloutSpec(strategy="percent", wave_percent=100))


def test_at_most_one_rollout_in_flight_per_template_is_a_database_rule(shop, five):
    from django.db import IntegrityError, transaction

    rollout = start(shop, canary("t1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Rollout.objects.create(
            template=shop,
            to_version=shop.v2,
            strategy="percent",
            wave_percent=10,
            max_failure_rate=0,
            status=RolloutStatus.PAUSED,
            created_by="test",
        )
    assert rollout.pk


def test_one_tenant_moves_back_or_ahead_pinned_or_not(shop, five):
    tenant = five[0]
    tenant_pin(tenant=tenant, pinned=True)
    job = tenant_rollback(tenant=tenant, to_version=shop.v2)
    assert (job.kind, job.target_version) == (JobKind.UPGRADE, shop.v2)
    assert tenant_rollback(tenant=tenant, to_version=shop.v2) == job  # asked twice: same job
    with pytest.raises(TenantVersionConflict):
        tenant_rollback(tenant=five[1], to_version=shop.v1)


def test_one_chain_of_messages_drives_a_rollout_and_beat_only_restarts_a_lost_one(shop, five):
    from datetime import timedelta

    from django.utils import timezone

    from rollouts.driver import rollouts_to_nudge

    rollout = start(shop, canary("t1"))
    assert rollouts_to_nudge() == [str(rollout.pk)]  # no chain yet (its first message lost)
    first = rollout_advance(rollout_id=rollout.pk)
    assert first is not None and first.countdown > 0  # polls the canary's job
    assert rollouts_to_nudge() == []  # a chain is alive
    # A second message (a nudge, a duplicate) does the step but starts no second chain.
    assert rollout_advance(rollout_id=rollout.pk) is None
    assert rollout_advance(rollout_id=rollout.pk, token="stale") is None
    # The chain's own message carries it on.
    assert rollout_advance(rollout_id=rollout.pk, token=first.token) is not None
    # Overdue: beat restarts it.
    assert rollouts_to_nudge(now=timezone.now() + timedelta(minutes=5)) == [str(rollout.pk)]
    rollout_abort(rollout=rollout)
    finish_jobs(rollout)
    rollout_advance(rollout_id=rollout.pk)
    assert rollouts_to_nudge(now=timezone.now() + timedelta(minutes=5)) == []


def test_a_rollback_after_an_abort_in_the_pause_does_not_wait_for_the_pause(shop, five):
    from django.conf import settings

    from rollouts.driver import rollouts_to_nudge

    rollout = start(shop, RolloutSpec(strategy="percent", wave_percent=40, pause_seconds=600))
    chain = rollout_advance(rollout_id=rollout.pk)  # wave 1 queued
    finish_jobs(rollout)
    chain = rollout_advance(rollout_id=rollout.pk, token=chain.token)
    assert chain.countdown > 590  # the pause before wave 2
    rollout_abort(rollout=rollout)

    rollout_rollback(rollout=rollout)
    # The forward rollout's pause is no business of the rollback: beat would restart its
    # chain, and the message the rollback sends carries it on at the poll's pace.
    assert rollouts_to_nudge() == [str(rollout.pk)]
    chain = rollout_advance(rollout_id=rollout.pk)
    assert chain is not None and chain.countdown <= settings.ROLLOUTS_POLL_SECONDS
    assert rollouts_to_nudge() == []
    finish_jobs(rollout, rollback=True)
    rollout_advance(rollout_id=rollout.pk, token=chain.token)

    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLED_BACK
    assert set(states(rollout).values()) == {S.ROLLED_BACK, S.NOT_STARTED}


def test_a_tenant_deprovisioned_during_the_rollout_is_skipped_not_failed(shop, five):
    from provisioning.models import JobOrigin, JobStatus
    from provisioning.services import job_request

    rollout = start(shop, RolloutSpec(strategy="percent", wave_percent=40))
    assert [wave_of(rollout, n) for n in (1, 2, 3)] == [["t1", "t2"], ["t3", "t4"], ["t5"]]
    advance(rollout)
    finish_jobs(rollout)
    # Before its wave is queued, and after its upgrade job was (a deprovision cancels it).
    job_request(tenant=five[2], kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
    advance(rollout)
    upgrade = Job.objects.get(tenant=five[3], kind=JobKind.UPGRADE)
    job_request(tenant=five[3], kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
    upgrade.refresh_from_db()
    assert upgrade.status == JobStatus.CANCELED

    advance(rollout)

    assert rollout.status == RolloutStatus.RUNNING and rollout.halt_reason == ""
    assert states(rollout)["t3"] == states(rollout)["t4"] == S.SKIPPED_GONE
    assert "deprovision" in rollout.entries.get(tenant=five[2]).error
    assert "left before its upgrade" in rollout.entries.get(tenant=five[2]).error
    # t4 left while its upgrade was under way, not before it.
    assert (
        "left while its upgrade was queued or running" in rollout.entries.get(tenant=five[3]).error
    )
    assert states(rollout)["t5"] == S.QUEUED  # the rollout went on
    finish_jobs(rollout)
    advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED


def test_the_rollouts_record_follows_a_retried_job_and_names_the_rollout_as_its_origin(shop, five):
    from datetime import timedelta

    from django.utils import timezone

    from provisioning.models import JobOrigin
    from provisioning.services import job_retry
    from rollouts.admin import RolloutAdmin
    from rollouts.driver import rollouts_to_nudge

    def later():
        return timezone.now() + timedelta(minutes=5)

    rollout = start(shop, RolloutSpec(strategy="percent", wave_percent=100, max_failure_rate=0.5))
    advance(rollout)
    assert set(Job.objects.values_list("requested_by", flat=True)) == {JobOrigin.ROLLOUT}
    finish_jobs(rollout, fail=("t1",))
    advance(rollout)
    assert rollout.status == RolloutStatus.COMPLETED and states(rollout)["t1"] == S.FAILED

    failed = rollout.entries.get(tenant=five[0]).job
    job_retry(job=failed, requested_by=JobOrigin.API)
    assert states(rollout)["t1"] == S.QUEUED
    assert rollouts_to_nudge(now=later()) == [
        str(rollout.pk)
    ]  # beat's net, should the nudge be lost
    finish_jobs(rollout)
    advance(rollout)

    assert states(rollout)["t1"] == S.SUCCEEDED
    assert rollout.entries.get(tenant=five[0]).error == ""
    assert RolloutAdmin.progress(None, rollout).endswith("5/5 moved")
    assert Event.objects.filter(event_type="tenant.upgraded", tenant=five[0]).count() == 1

    # The same for a rollback job that failed, after the rollout was rolled back.
    rollout_rollback(rollout=rollout)
    advance(rollout)
    finish_jobs(rollout, rollback=True, fail=("t2",))
    advance(rollout)
    assert rollout.status == RolloutStatus.ROLLED_BACK
    entry = rollout.entries.get(tenant=five[1])
    assert entry.rollback_error and entry.rollback_job.requested_by == JobOrigin.ROLLOUT
    job_retry(job=entry.rollback_job, requested_by=JobOrigin.API)
    assert rollouts_to_nudge(now=later()) == [
        str(rollout.pk)
    ]  # beat's net, should the nudge be lost
    finish_jobs(rollout, rollback=True)
    advance(rollout)
    assert states(rollout)["t2"] == S.ROLLED_BACK
    assert rollouts_to_nudge(now=later()) == []


def test_a_halt_reason_says_when_retries_have_brought_its_wave_within_the_limit(shop, five):
    """A halted rollout stays halted until someone resumes it, but its halt_reason no longer
    claims failures that retries have since undone; a resume clears it."""
    from provisioning.models import JobOrigin
    from provisioning.services import job_retry

    rollout = start(shop, canary("t1", wave_size=2))
    advance(rollout)
    finish_jobs(rollout, fail=("t1",))
    advance(rollout)
    halted = "Wave 1: 1 of 1 upgrades failed (100%), more than the 0% allowed."
    assert (rollout.status, rollout.halt_reason) == (RolloutStatus.HALTED, halted)

    # Retried and failed again: the reason holds as it was.
    job_retry(job=rollout.entries.get(tenant=five[0]).job, requested_by=JobOrigin.API)
    finish_jobs(rollout, fail=("t1",))
    advance(rollout)
    assert (rollout.status, rollout.halt_reason) == (RolloutStatus.HALTED, halted)

    job_retry(job=rollout.entries.get(tenant=five[0]).job, requested_by=JobOrigin.API)
    finish_jobs(rollout)
    advance(rollout)
    assert rollout.status == RolloutStatus.HALTED  # nothing more is queued until a resume
    assert rollout.halt_reason == (f"{halted} Retried since: 0 of 1 failed (0%), within the limit.")
    assert states(rollout)["t1"] == S.SUCCEEDED

    # Aborted instead of resumed: the reason stays, and says nothing an aborted rollout
    # cannot do (it said "resume to go on").
    aborted = Rollout.objects.get(pk=rollout.pk)
    rollout_abort(rollout=aborted)
    aborted.refresh_from_db()
    assert aborted.halt_reason == rollout.halt_reason
    assert "resume" not in aborted.halt_reason


def test_a_failed_tenant_being_repaired_waits_for_its_repair_rather_than_failing(shop, five):
    """A failed tenant is provisioning while a repair of it runs: its wave waits for that job,
    as for any busy tenant, and then moves it. It was marked failed ("it has no integration
    to upgrade", which it has), and the wave's failure halted the rollout."""
    from django.utils import timezone

    from provisioning.models import JobOrigin, JobStatus
    from provisioning.services import job_request
    from tenants.models import Tenant, TenantStatus

    t1 = five[0]
    Tenant.objects.filter(pk=t1.pk).update(status=TenantStatus.FAILED)
    repair = job_request(tenant=t1, kind=JobKind.REPAIR, requested_by=JobOrigin.API)
    rollout = start(shop, canary("t1"))
    Tenant.objects.filter(pk=t1.pk).update(status=TenantStatus.PROVISIONING)  # its first step

    advance(rollout)

    entry = rollout.entries.get(tenant=t1)
    assert (entry.state, entry.error) == (
        S.PENDING,
        "Waiting for another job of the tenant to finish.",
    )
    assert rollout.status == RolloutStatus.RUNNING
    Job.objects.filter(pk=repair.pk).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())
    Tenant.objects.filter(pk=t1.pk).update(status=TenantStatus.ACTIVE)
    advance(rollout)
    assert states(rollout)["t1"] == S.QUEUED

"""The ops admin: the rollout list and page, its actions, the tenant page's history."""

import pytest
from django.contrib.auth import get_user_model

from rollouts.driver import rollout_advance
from rollouts.models import RolloutStatus
from rollouts.services import rollout_start
from tests.rollouts.conftest import canary, finish_jobs


@pytest.fixture
def ops(db, client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-for-tests")
    client.force_login(user)
    return client


@pytest.fixture
def rollout(shop, five):
    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("t1", wave_size=2), created_by="test"
    )
    rollout_advance(rollout_id=rollout.pk)
    finish_jobs(rollout, fail=("t1",))
    rollout_advance(rollout_id=rollout.pk)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.HALTED
    return rollout


def test_the_list_and_the_page_show_progress_per_wave_and_tenant(ops, rollout):
    listing = ops.get("/admin/rollouts/rollout/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert str(rollout.pk)[:8] in html and "wave 1/3, 0/5 moved" in html

    page = ops.get(f"/admin/rollouts/rollout/{rollout.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "failure rate" in html and "100%" in html  # the canary wave
    assert "reconcile_failed" in html  # the tenant's error, in the tenants' table
    assert "Wave 1: 1 of 1 upgrades failed" in html


def test_a_rollouts_page_offers_no_save_that_would_change_nothing(ops, rollout):
    """Everything on it is read only (steered by the actions): a Save button only wrote
    "No fields changed." into the admin log."""
    page = ops.get(f"/admin/rollouts/rollout/{rollout.pk}/change/").content.decode()

    assert 'name="_save"' not in page and 'name="_continue"' not in page
    listing = ops.get("/admin/rollouts/rollout/").content.decode()
    assert 'value="rollout_pause"' in listing  # the controls stay


def test_the_actions_call_the_services(ops, rollout):
    response = ops.post(
        "/admin/rollouts/rollout/",
        {"action": "rollout_resume", "_selected_action": [str(rollout.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.RUNNING
    refused = ops.post(
        "/admin/rollouts/rollout/",
        {"action": "rollout_resume", "_selected_action": [str(rollout.pk)]},
        follow=True,
    )
    assert "not resumed" in refused.content.decode()
    for action, status in (("rollout_abort", "aborted"), ("rollout_rollback", "rolling_back")):
        ops.post(
            "/admin/rollouts/rollout/",
            {"action": action, "_selected_action": [str(rollout.pk)], "post": "yes"},
        )
        rollout.refresh_from_db()
        assert rollout.status == status


@pytest.mark.parametrize(
    ("action", "question", "consequence"),
    [
        ("rollout_abort", "Abort 1 rollout?", "cannot be resumed"),
        ("rollout_rollback", "Roll back 1 rollout?", "back to the version"),
    ],
)
def test_abort_and_roll_back_ask_first(ops, rollout, action, question, consequence):
    response = ops.post(
        "/admin/rollouts/rollout/", {"action": action, "_selected_action": [str(rollout.pk)]}
    )

    # One click stopped the rollout for good, or took every tenant it moved back, with no
    # question asked, as pause and resume (which undo each other) do.
    page = response.content.decode()
    assert response.status_code == 200
    assert question in page and consequence in page
    assert str(rollout.pk)[:8] in page
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.HALTED


def test_the_tenant_page_shows_its_rollout_history(ops, rollout, five):
    page = ops.get(f"/admin/tenants/tenant/{five[0].pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Rollout history" in html and str(rollout.pk)[:8] in html
    assert "v1.0.0" in html and "v2.0.0" in html


def test_the_list_counts_the_tenants_a_rollback_moved_back(ops, shop, five):
    """After a rollback nobody is left on the version: the list said "0/5 moved" as if the
    rollout had never moved anyone; it says how many went back too."""
    from rollouts.services import rollout_rollback

    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("t1", wave_size=2), created_by="test"
    )
    for _ in range(3):  # the canary, then waves 2 and 3
        rollout_advance(rollout_id=rollout.pk)
        finish_jobs(rollout)
    rollout_advance(rollout_id=rollout.pk)
    rollout_rollback(rollout=rollout)
    for _ in range(4):  # waves 3, 2 and 1 back, then done
        rollout_advance(rollout_id=rollout.pk)
        finish_jobs(rollout, rollback=True)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ROLLED_BACK

    html = ops.get("/admin/rollouts/rollout/").content.decode()
    assert "wave 3/3, 0/5 moved, 5 moved back" in html


def test_the_wave_tables_headers_can_wrap(ops, rollout):
    """Each state a single word (skipped_already, ...), the table could not be narrower than
    their sum: at 1400 pixels its failure rate column fell outside the page, unreachable."""
    html = ops.get(f"/admin/rollouts/rollout/{rollout.pk}/change/").content.decode()
    assert "<th>skipped already</th>" in html and "<th>not started</th>" in html
    assert "<th>skipped_already</th>" not in html


def test_the_rollouts_page_says_why_a_tenant_was_not_taken_back(ops, shop, five):
    """A tenant moved again since the rollout stays where it is on rollback, and its row says
    why (as the API's rollback_error does); the page showed it "Moved", with nothing else."""
    from rollouts.services import rollout_rollback
    from tenants.models import Tenant

    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("t1", wave_size=5), created_by="test"
    )
    for _ in range(2):  # the canary, then the rest
        rollout_advance(rollout_id=rollout.pk)
        finish_jobs(rollout)
    rollout_advance(rollout_id=rollout.pk)
    Tenant.objects.filter(external_id="t1").update(template_version=shop.v1)  # moved by hand
    rollout_rollback(rollout=rollout)
    for _ in range(3):
        rollout_advance(rollout_id=rollout.pk)
        finish_jobs(rollout, rollback=True)

    html = ops.get(f"/admin/rollouts/rollout/{rollout.pk}/change/").content.decode()
    assert "It is on another version than this rollout&#x27;s now; left there." in html


def _rollout_of(shop, count: int, prefix: str):
    """A rollout over `count` tenants, its canary wave queued and finished (jobs on its rows)."""
    from tests.rollouts.conftest import upgradable_tenant

    tenants = [upgradable_tenant(shop, f"{prefix}{n}") for n in range(count)]
    rollout = rollout_start(
        template=shop,
        to_version=shop.v2,
        spec=canary(tenants[0].external_id, wave_size=count),
        created_by="test",
    )
    for _ in range(2):  # the canary, then the rest
        rollout_advance(rollout_id=rollout.pk)
        finish_jobs(rollout)
    return rollout


def test_a_rollouts_page_reads_the_same_queries_for_few_tenants_as_for_many(ops, shop):
    """Each tenant row read its job (and more) by itself: a rollout over a fleet made a page
    of thousands of queries. The count stays the same whatever the number of tenants."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rollouts.models import Rollout

    few = _rollout_of(shop, 2, "few")
    Rollout.objects.filter(pk=few.pk).update(status=RolloutStatus.COMPLETED)
    many = _rollout_of(shop, 8, "many")

    with CaptureQueriesContext(connection) as few_queries:
        assert ops.get(f"/admin/rollouts/rollout/{few.pk}/change/").status_code == 200
    with CaptureQueriesContext(connection) as many_queries:
        assert ops.get(f"/admin/rollouts/rollout/{many.pk}/change/").status_code == 200

    assert len(many_queries) == len(few_queries), "\n".join(q["sql"] for q in many_queries)


# --- pins and the fleet's filters on the tenant list --------------------------------------


TENANTS = "/admin/tenants/tenant/"


def _listed(client, query: str) -> list[str]:
    html = client.get(f"{TENANTS}?{query}").content.decode()
    return sorted(
        external_id
        for external_id in ("t1", "t2", "t3", "t4", "t5")
        if f"<strong>{external_id}</strong>" in html
    )


def test_operators_pin_and_unpin_tenants_from_the_list(operator_admin, viewer_admin, five):
    from tenants.models import Tenant

    Tenant.objects.filter(external_id="t2").update(version_pinned=True)
    pks = [str(tenant.pk) for tenant in five[:3]]

    pinned = operator_admin.post(
        TENANTS, {"action": "tenants_pin", "_selected_action": pks}, follow=True
    )

    assert set(
        Tenant.objects.filter(version_pinned=True).values_list("external_id", flat=True)
    ) == {
        "t1",
        "t2",
        "t3",
    }
    said = [str(message) for message in pinned.context["messages"]]
    assert said == [
        "Not pinned: t2 is pinned already.",
        "Pinned 2 tenants (t1, t3) to their versions: rollouts leave them there.",
    ]
    unpinned = operator_admin.post(
        TENANTS, {"action": "tenants_unpin", "_selected_action": pks}, follow=True
    )
    assert not Tenant.objects.filter(version_pinned=True).exists()
    assert "Unpinned 3 tenants (t1, t2, t3)" in str(list(unpinned.context["messages"])[-1])
    # The audit log has each one's pin, through rollouts.services.tenant_pin.
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="tenant.pin").count() == 2
    # A viewer is offered neither.
    listing = viewer_admin.get(TENANTS).content.decode()
    assert "tenants_pin" not in listing and "tenants_unpin" not in listing


def test_a_tenant_being_removed_is_not_pinned_and_says_why_once(operator_admin, five):
    from tenants.models import Tenant, TenantStatus

    Tenant.objects.filter(external_id__in=("t1", "t2")).update(status=TenantStatus.DEPROVISIONING)

    response = operator_admin.post(
        TENANTS,
        {"action": "tenants_pin", "_selected_action": [str(t.pk) for t in five]},
        follow=True,
    )

    said = [str(message) for message in response.context["messages"]]
    assert len(said) == 2, said
    assert said[0].startswith("Not pinned: 2 tenants (t1, t2):")
    assert said[1].startswith("Pinned 3 tenants (t3, t4, t5)")


def test_the_tenant_list_filters_by_version_drift_and_pin(ops, shop, five):
    from django.utils import timezone

    from provisioning.models import Drift
    from tenants.models import Tenant

    Tenant.objects.filter(external_id__in=("t1", "t2")).update(template_version=shop.v2)
    Tenant.objects.filter(external_id="t3").update(version_pinned=True)
    now = timezone.now()
    Drift.objects.create(tenant=five[3], version=shop.v1, found_at=now, last_seen_at=now)
    Drift.objects.create(
        tenant=five[4], version=shop.v1, found_at=now, last_seen_at=now, cleared_at=now
    )

    page = ops.get(TENANTS).content.decode()
    assert "By template version" in page and "By drift" in page and "By pinned" in page
    assert "shop-to-erp v2.0.0" in page.split("By template version")[1]
    assert _listed(ops, f"version={shop.v2.pk}") == ["t1", "t2"]
    assert _listed(ops, "drift=drifted") == ["t4"]
    assert _listed(ops, "drift=not_drifted") == ["t1", "t2", "t3", "t5"]
    assert _listed(ops, "pinned=yes") == ["t3"]
    assert _listed(ops, "pinned=no") == ["t1", "t2", "t4", "t5"]


def test_a_rollouts_page_shows_a_page_of_its_tenants_failed_first(ops, shop, monkeypatch):
    """The page listed every tenant of the rollout: one over 10,000 tenants was a page of
    10,000 rows. It shows the first rows, the failed first, and says where the rest are."""
    from tests.rollouts.conftest import upgradable_tenant

    monkeypatch.setattr("rollouts.admin.TENANT_ROWS_SHOWN", 2)
    tenants = [upgradable_tenant(shop, f"big{n}") for n in range(5)]
    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("big0", wave_size=5), created_by="test"
    )
    for _ in range(2):
        rollout_advance(rollout_id=rollout.pk)
        finish_jobs(rollout, fail=("big4",))
    rollout_advance(rollout_id=rollout.pk)  # reads the outcomes: big4 failed

    page = ops.get(f"/admin/rollouts/rollout/{rollout.pk}/change/")

    assert page.status_code == 200
    [inline] = page.context["inline_admin_formsets"]
    shown = [form.instance.tenant.external_id for form in inline.formset.forms]
    assert shown == ["big4", "big0"]
    html = page.content.decode()
    assert "2 of 5 tenants shown (failed first)" in html
    assert f"/api/v1/rollouts/{rollout.pk}/tenants" in html
    assert len(tenants) == 5


def test_an_action_on_the_whole_fleet_reads_the_tenants_without_the_lists_columns(
    operator_admin, five
):
    """*Select all* on a fleet hands the action every tenant of the list: read with the list's
    joins (template and version, their JSON decoded for every row) and its connections, 20,000
    tenants took 50 s before the first was pinned, and with the action's own 20 s the request
    outlived gunicorn's timeout (a 502, and no word of what was done)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.models import Tenant

    with CaptureQueriesContext(connection) as queries:
        response = operator_admin.post(
            TENANTS,
            {"action": "tenants_pin", "select_across": "1", "_selected_action": [str(five[0].pk)]},
        )

    assert response.status_code == 302
    assert Tenant.objects.filter(version_pinned=True).count() == 5
    read_with_the_list = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "tenants_tenant"."id"')
        and (
            'JOIN "tenants_templateversion"' in query["sql"]
            or 'JOIN "tenants_integrationtemplate"' in query["sql"]
        )
    ]
    assert read_with_the_list == []
    assert not [
        q for q in queries.captured_queries if 'FROM "tenants_tenantconnection"' in q["sql"]
    ]

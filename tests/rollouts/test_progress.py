"""A rollout's progress (tenants by state, overall and per wave) is counted by the database:
a rollout over a fleet is one row per tenant, and reading them all into Python for every
admin list row, API answer and driver step cost as much as the fleet is large."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollouts.driver import rollout_advance
from rollouts.selectors import rollout_progress
from rollouts.services import rollout_start
from tests.rollouts.conftest import S, canary, finish_jobs


def test_progress_is_counted_in_one_grouped_query(shop, five):
    rollout = rollout_start(
        template=shop, to_version=shop.v2, spec=canary("t1", wave_size=2), created_by="test"
    )
    rollout_advance(rollout_id=rollout.pk)
    finish_jobs(rollout, fail=("t1",))
    rollout_advance(rollout_id=rollout.pk)

    with CaptureQueriesContext(connection) as queries:
        progress = rollout_progress(rollout=rollout)

    assert [len(queries), *("COUNT(" in q["sql"] and "GROUP BY" in q["sql"] for q in queries)] == [
        1,
        True,
    ]
    assert progress["states"][S.FAILED] == 1 and progress["states"][S.PENDING] == 4
    assert sum(progress["states"].values()) == 5
    assert [wave["tenants"] for wave in progress["waves"]] == [1, 2, 2]
    assert progress["waves"][0]["failure_rate"] == 1.0
    assert progress["waves"][1]["failure_rate"] is None

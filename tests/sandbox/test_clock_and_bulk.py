"""The account's clock (set ahead, behind, stepped back) and the bulk set-up controls."""

import datetime as dt

import pytest


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _run(api, flow_id: str) -> dict:
    response = api.post(f"/flows/{flow_id}/run", json={})
    assert response.status_code == 201
    return api.get(f"/jobs/{response.json()['_jobId']}").json()


@pytest.mark.parametrize("offset", [3600.0, -3600.0])
def test_the_clock_offset_moves_every_stamp(api, control, offset):
    control.configure(clock_offset_seconds=offset)
    (made,) = control.bulk_integrations(1)
    before = dt.datetime.now(dt.UTC)
    job = _run(api, made["_flowId"])
    integration = api.get(f"/integrations/{made['_integrationId']}").json()

    for stamp in (job["createdAt"], integration["createdAt"], integration["lastModified"]):
        skew = (_parse(stamp) - before).total_seconds()
        assert offset - 5 < skew < offset + 5


def test_a_clock_stepped_back_makes_older_stamps_that_queries_still_order(api, control):
    (made,) = control.bulk_integrations(1)
    first = _run(api, made["_flowId"])
    control.configure(clock_offset_seconds=-30)
    later = _run(api, made["_flowId"])

    assert _parse(later["createdAt"]) < _parse(first["createdAt"])
    listed = api.get("/jobs", params={"type": "flow", "createdAt_gte": "2000-01-01"}).json()
    assert [job["_id"] for job in listed] == [first["_id"], later["_id"]]  # newest createdAt first
    older = api.get("/jobs", params={"type": "flow", "createdAt_lte": later["createdAt"]}).json()
    assert [job["_id"] for job in older] == [later["_id"]]


def test_no_two_jobs_share_a_millisecond(api, control):
    made = control.bulk_integrations(30)
    control.bulk_runs([m["_flowId"] for m in made])
    listed = api.get("/jobs", params={"type": "flow", "createdAt_gte": "2000-01-01"}).json()
    assert len({job["createdAt"] for job in listed}) == len(listed) == 30


def test_a_reset_puts_the_clock_back(api, control):
    control.configure(clock_offset_seconds=600)
    control.reset()
    assert control.config()["clock_offset_seconds"] == 0


def test_bulk_integrations_are_ordinary_integrations_with_a_flow(api, control):
    made = control.bulk_integrations(3, name_prefix="Bench")

    assert len({m["_integrationId"] for m in made}) == 3
    flows = api.get(f"/integrations/{made[2]['_integrationId']}/flows").json()
    assert [flow["_id"] for flow in flows] == [made[2]["_flowId"]]
    assert flows[0]["disabled"] is False
    job_ids = control.bulk_runs([made[0]["_flowId"], made[0]["_flowId"]])
    jobs = api.get("/jobs", params={"_integrationId": made[0]["_integrationId"]}).json()
    assert {job["_id"] for job in jobs} == set(job_ids)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/bulk/integrations", {"count": 0}, "count"),
        ("/bulk/integrations", {"count": "ten"}, "count"),
        ("/bulk/integrations", {"count": 2, "namePrefix": ""}, "namePrefix"),
        ("/bulk/runs", {"flowIds": "x"}, "flowIds"),
        ("/bulk/runs", {"flowIds": ["nope"]}, "flowIds"),
    ],
)
def test_bulk_controls_refuse_bad_bodies(sandbox_clean, path, body, field):
    response = sandbox_clean.control.session.post(
        f"{sandbox_clean.control.base_url}/_sandbox{path}", json=body, timeout=10
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_the_clock_offset_is_bounded(sandbox_clean):
    response = sandbox_clean.control.session.patch(
        f"{sandbox_clean.control.base_url}/_sandbox/config",
        json={"clock_offset_seconds": 10 * 86400},
        timeout=10,
    )
    assert response.status_code == 422

"""Flow schedules: integrator.io's 6-field cron (second `?`), field by field; IANA timezones."""

import pytest

VALID = [
    "? 0 2 ? * *",
    "? */15 * ? * *",
    "? 0 * ? * *",
    "? 30 8-18/2 ? * MON-FRI",
    "? 0,15,30,45 0 1 JAN,jul ?",
    "? 5 0,2,4,6,8,10,12,14,16,18,20,22 ? * 1,2,3,4,5,6,7",
    "? 0 0 1-31/2 1-12 *",
    "? 59 23 31 12 0",
    "? 5/10 * * * ?",
]
INVALID = [
    "0 2 * * *",  # 5 fields (Unix)
    "? 0 2 ? * * 2026",  # 7 fields (Quartz with a year)
    "0 0 2 ? * *",  # the second is not `?`
    "? 60 * ? * *",  # minute out of range
    "? 0 24 ? * *",  # hour out of range
    "? 0 0 0 * *",  # day of month starts at 1
    "? 0 0 32 * *",
    "? 0 0 ? 13 *",
    "? 0 0 ? * 8",
    "? ? 0 ? * *",  # `?` only in the day fields
    "? 0 ? ? * *",
    "? 0 0 ? FOO *",
    "? */0 * ? * *",  # a zero step
    "? 30-10 * ? * *",  # a backward range
    "? 0, * ? * *",  # an empty list item
    "? 0 0 L * ?",  # Quartz extensions are not taken
    "? 0 0 ? * 6#3",
    "",
]


def _flow(api, **fields):
    return api.post("/flows", json={"name": "F", **fields})


@pytest.mark.parametrize("schedule", VALID)
def test_it_accepts_a_six_field_cron(api, schedule):
    response = _flow(api, schedule=schedule, timezone="Europe/Berlin")
    assert response.status_code == 201, response.text
    assert response.json()["schedule"] == schedule


@pytest.mark.parametrize("schedule", [s for s in INVALID if s])
def test_it_refuses_an_invalid_cron(api, schedule):
    response = _flow(api, schedule=schedule)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["code"], error["message"], error["field"]) == (
        "invalid_field",
        "Invalid cron expression",
        "schedule",
    )


def test_it_checks_page_generator_schedules_and_patched_schedules(api):
    export = api.create("exports", {"name": "E"})
    bad = _flow(api, pageGenerators=[{"_exportId": export["_id"], "schedule": "? 61 * ? * *"}])
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "pageGenerators[0].schedule"
    flow = _flow(api, schedule="? 0 2 ? * *").json()
    url = f"/flows/{flow['_id']}"
    refused = api.patch(url, json=[{"op": "replace", "path": "/schedule", "value": "0 2 * * *"}])
    assert refused.status_code == 422
    accepted = api.patch(url, json=[{"op": "replace", "path": "/schedule", "value": "? 0 3 ? * *"}])
    assert accepted.status_code == 204
    assert api.get(url).json()["schedule"] == "? 0 3 ? * *"
    # An empty schedule means none (unscheduled flows are run on demand).
    assert _flow(api, schedule="").status_code == 201


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
def test_it_accepts_an_iana_timezone(api, timezone):
    response = _flow(api, schedule="? 0 2 ? * *", timezone=timezone)
    assert response.status_code == 201
    assert response.json()["timezone"] == timezone


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Europe/Berlinn", "GMT+2", "", 1])
def test_it_refuses_an_unknown_timezone(api, timezone):
    response = _flow(api, timezone=timezone)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "timezone"
    flow = _flow(api).json()
    patched = api.patch(
        f"/flows/{flow['_id']}", json=[{"op": "add", "path": "/timezone", "value": timezone}]
    )
    assert patched.status_code == 422

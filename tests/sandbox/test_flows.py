"""Flows: validation of steps and schedules, PATCH 204 on allowed paths, empty list 204."""


def _steps(api):
    export = api.create("exports", {"name": "E"})
    imp = api.create("imports", {"name": "I"})
    return export, imp


def test_it_answers_204_for_an_empty_flow_list(api):
    # Conformance case 8 (flows).
    response = api.get("/flows")
    assert response.status_code == 204
    assert response.content == b""


def test_it_creates_a_flow_with_steps_enabled_by_default(api):
    export, imp = _steps(api)
    body = {
        "name": "F",
        "pageGenerators": [{"_exportId": export["_id"]}],
        "pageProcessors": [{"type": "import", "_importId": imp["_id"]}],
        "schedule": "? 0 2 ? * *",
        "timezone": "Europe/Berlin",
    }
    created = api.create("flows", body)
    assert created["disabled"] is False
    assert created["pageGenerators"] == [{"_exportId": export["_id"]}]
    assert api.get(f"/flows/{created['_id']}").json()["schedule"] == "? 0 2 ? * *"


def test_it_enables_a_flow_with_a_patch(api):
    # Conformance case 17.
    created = api.create("flows", {"name": "F", "disabled": True})
    ops = [{"op": "replace", "path": "/disabled", "value": False}]
    response = api.patch(f"/flows/{created['_id']}", json=ops)
    assert response.status_code == 204
    assert response.content == b""
    fetched = api.get(f"/flows/{created['_id']}").json()
    assert fetched["disabled"] is False
    assert fetched["lastModified"] >= created["lastModified"]


def test_it_refuses_a_patch_outside_the_documented_paths(api):
    created = api.create("flows", {"name": "F"})
    for path in ("/settings", "/_integrationId", "/pageProcessors"):
        response = api.patch(
            f"/flows/{created['_id']}", json=[{"op": "add", "path": path, "value": {}}]
        )
        assert response.status_code == 422, path
    assert api.patch(f"/flows/{created['_id']}", json={"op": "replace"}).status_code == 422


def test_it_refuses_processors_with_routers_and_bad_crons(api):
    # Conformance case 18.
    both = api.post("/flows", json={"name": "F", "pageProcessors": [], "routers": []})
    assert both.status_code == 422
    assert both.json()["errors"][0]["message"] == (
        '"pageProcessors" is not allowed when "routers" is present'
    )
    cron = api.post("/flows", json={"name": "F", "schedule": "0 2 * * *"})
    assert cron.status_code == 422
    assert cron.json()["errors"][0]["message"] == "Invalid cron expression"
    zone = api.post("/flows", json={"name": "F", "timezone": "Mars/Olympus"})
    assert zone.json()["errors"][0]["field"] == "timezone"


def test_it_refuses_steps_that_point_nowhere(api):
    missing = "5f0000000000000000000000"
    cases = [
        ({"pageGenerators": [{"_exportId": missing}]}, "pageGenerators[0]._exportId"),
        ({"pageGenerators": [{}]}, "pageGenerators[0]._exportId"),
        (
            {"pageProcessors": [{"type": "import", "_importId": missing}]},
            "pageProcessors[0]._importId",
        ),
        ({"pageProcessors": [{"type": "lookup"}]}, "pageProcessors[0].type"),
        ({"_integrationId": missing}, "_integrationId"),
        (
            {
                "routers": [
                    {"branches": [{"pageProcessors": [{"type": "export", "_exportId": missing}]}]}
                ]
            },
            "routers[0].branches[0].pageProcessors[0]._exportId",
        ),
    ]
    for fields, field in cases:
        response = api.post("/flows", json={"name": "F", **fields})
        assert response.status_code == 422, fields
        assert response.json()["errors"][0]["field"] == field


def test_it_replaces_and_deletes_a_flow(api):
    export, _ = _steps(api)
    created = api.create("flows", {"name": "F", "description": "d"})
    body = {"name": "F2", "pageGenerators": [{"_exportId": export["_id"]}]}
    updated = api.put(f"/flows/{created['_id']}", json=body).json()
    assert updated["name"] == "F2"
    assert "description" not in updated
    assert updated["disabled"] is False
    assert api.delete(f"/flows/{created['_id']}").status_code == 204
    assert api.get(f"/flows/{created['_id']}").status_code == 404

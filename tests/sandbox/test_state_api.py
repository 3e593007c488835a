"""The State API: global and per-resource keys, with their plain-text answers."""


def test_it_keeps_global_and_resource_keys_apart(api):
    # Conformance case 24.
    put = api.put("/state/banana", json={"message": "Don't slip!", "reply": "i didn't!"})
    assert put.status_code == 200
    assert put.text == "OK"
    assert api.put("/state/apple", json=1).text == "OK"
    assert api.get("/state/banana").json() == {"message": "Don't slip!", "reply": "i didn't!"}
    imp = api.create("imports", {"name": "I"})
    created = api.put(f"/imports/{imp['_id']}/state/sequenceNumber", json={"counter": 1})
    assert created.status_code == 201
    assert created.text == "Created"
    updated = api.put(f"/imports/{imp['_id']}/state/sequenceNumber", json={"counter": 2})
    assert updated.status_code == 200
    assert updated.text == "OK"
    assert sorted(api.get("/state").json()["keys"]) == ["apple", "banana"]
    assert api.get(f"/imports/{imp['_id']}/state").json() == {"keys": ["sequenceNumber"]}
    assert api.get(f"/imports/{imp['_id']}/state/sequenceNumber").json() == {"counter": 2}


def test_it_deletes_keys_with_the_documented_statuses(api):
    api.put("/state/a", json=1)
    api.put("/state/b", json=2)
    assert api.delete("/state/a").status_code == 204
    assert api.get("/state/a").status_code == 404
    assert api.delete("/state").status_code == 204
    assert api.get("/state").json() == {"keys": []}
    flow = api.create("flows", {"name": "F"})
    api.put(f"/flows/{flow['_id']}/state/k", json="v")
    assert api.delete(f"/flows/{flow['_id']}/state/k").status_code == 200
    api.put(f"/flows/{flow['_id']}/state/k", json="v")
    assert api.delete(f"/flows/{flow['_id']}/state").status_code == 200
    assert api.get(f"/flows/{flow['_id']}/state").json() == {"keys": []}
    assert api.get("/flows/5f0000000000000000000000/state").status_code == 404
    assert api.put("/state/empty").status_code == 422

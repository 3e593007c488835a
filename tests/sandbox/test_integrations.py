"""Integrations: CRUD, full-replace PUT, JSON Patch, projection, Link paging, sub-lists."""

import requests

from tests.sandbox.payloads import http_connection


def test_it_creates_an_integration(api):
    # Conformance case 13.
    response = api.post("/integrations", json={"name": "Tenant 42", "description": "d"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Tenant 42"
    assert {"_id", "createdAt", "lastModified"} <= set(body)


def test_it_replaces_the_whole_document_on_put(api):
    # Conformance case 16: fields left out are erased.
    created = api.create("integrations", {"name": "T", "readme": "r", "settings": {"a": 1}})
    full = api.get(f"/integrations/{created['_id']}").json()
    full["settings"] = {"a": 2}
    updated = api.put(f"/integrations/{created['_id']}", json=full)
    assert updated.status_code == 200
    assert updated.json()["settings"] == {"a": 2}
    assert updated.json()["readme"] == "r"
    partial = api.put(f"/integrations/{created['_id']}", json={"name": "T"}).json()
    assert "settings" not in partial
    assert "readme" not in partial


def test_it_keeps_managed_update_fields_on_put(api):
    created = api.create("integrations", {"name": "T", "updateInProgress": True, "version": "1"})
    body = {"name": "T", "updateInProgress": False, "version": "1.0.2"}
    api.put(f"/integrations/{created['_id']}", json=body)
    fetched = api.get(f"/integrations/{created['_id']}").json()
    assert fetched["updateInProgress"] is False
    assert fetched["version"] == "1.0.2"


def test_it_patches_settings_with_json_patch(api):
    created = api.create("integrations", {"name": "T", "settings": {"a": 1}})
    ops = [{"op": "add", "path": "/settings/b", "value": 2}]
    assert api.patch(f"/integrations/{created['_id']}", json=ops).status_code == 204
    assert api.get(f"/integrations/{created['_id']}").json()["settings"] == {"a": 1, "b": 2}


def test_it_validates_integrations(api):
    assert api.post("/integrations", json={}).json()["errors"][0]["field"] == "name"
    long = api.post("/integrations", json={"name": "T", "description": "x" * 5121})
    assert long.status_code == 422
    bad_settings = api.post("/integrations", json={"name": "T", "settings": []})
    assert bad_settings.json()["errors"][0]["field"] == "settings"
    not_object = api.post("/integrations", json=["x"])
    assert not_object.status_code == 422


def test_it_refuses_include_with_exclude(api):
    # Conformance case 27.
    response = api.get("/integrations", params={"include": "name", "exclude": "version"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_query_params"
    assert error["message"] == (
        "Please provide either include or exclude param in the request query and not both."
    )
    assert api.get("/integrations", params={"include": "na me"}).status_code == 400


def test_it_projects_lists_but_not_gets(api):
    created = api.create(
        "integrations", {"name": "T", "version": "1", "settings": {"a": 1, "b": 2}}
    )
    included = api.get("/integrations", params={"include": "settings.a"}).json()[0]
    assert included == {"_id": created["_id"], "name": "T", "settings": {"a": 1}}
    excluded = api.get("/integrations", params={"exclude": "settings,version"}).json()[0]
    assert "settings" not in excluded
    assert "version" not in excluded
    assert excluded["name"] == "T"
    by_id = api.get(f"/integrations/{created['_id']}", params={"include": "name"}).json()
    assert by_id["settings"] == {"a": 1, "b": 2}


def test_it_pages_lists_with_a_link_header(api, control):
    # Conformance case 28.
    control.configure(page_size=2)
    for number in range(5):
        api.create("integrations", {"name": f"I{number}"})
    names = []
    url = api.url("/integrations")
    pages = 0
    while url:
        response = api.session.get(url, timeout=5)
        assert response.status_code == 200
        names += [doc["name"] for doc in response.json()]
        url = response.links.get("next", {}).get("url")
        pages += 1
    assert names == ["I0", "I1", "I2", "I3", "I4"]
    assert pages == 3
    last = api.get("/integrations", params={"skip": 4, "limit": 2})
    assert "next" not in last.links
    assert "prev" in last.links
    assert len(api.get("/integrations", params={"limit": 4}).json()) == 4
    assert api.get("/integrations", params={"limit": "x"}).status_code == 400


def test_it_answers_an_empty_integration_list_with_200(api):
    response = api.get("/integrations")
    assert response.status_code == 200
    assert response.json() == []


def test_it_deletes_without_cascading(api, control):
    integration = api.create("integrations", {"name": "T"})
    flow = api.create("flows", {"name": "F", "_integrationId": integration["_id"]})
    assert api.delete(f"/integrations/{integration['_id']}").status_code == 204
    assert api.get(f"/flows/{flow['_id']}").status_code == 200
    assert control.counts()["flows"] == 1


def test_it_lists_the_members_of_an_integration(api, sandbox_clean):
    integration = api.create("integrations", {"name": "T"})
    other = api.create("integrations", {"name": "Other"})
    connection = api.create("connections", http_connection("https://x", "k"))
    export = api.create(
        "exports",
        {"name": "E", "_integrationId": integration["_id"], "_connectionId": connection["_id"]},
    )
    imp = api.create("imports", {"name": "I", "_integrationId": integration["_id"]})
    api.create("imports", {"name": "elsewhere", "_integrationId": other["_id"]})
    flow = api.create(
        "flows",
        {
            "name": "F",
            "_integrationId": integration["_id"],
            "pageGenerators": [{"_exportId": export["_id"]}],
            "pageProcessors": [{"type": "import", "_importId": imp["_id"]}],
        },
    )
    base = f"/integrations/{integration['_id']}"
    assert [f["_id"] for f in api.get(base + "/flows").json()] == [flow["_id"]]
    assert [e["_id"] for e in api.get(base + "/exports").json()] == [export["_id"]]
    assert [i["_id"] for i in api.get(base + "/imports").json()] == [imp["_id"]]
    connections = api.get(base + "/connections").json()
    assert [c["_id"] for c in connections] == [connection["_id"]]
    assert connections[0]["http"]["auth"]["token"]["token"] == "******"
    assert api.get(f"/integrations/{other['_id']}/flows").json() == []
    missing = requests.get(
        api.url("/integrations/5f0000000000000000000000/flows"),
        headers=api.session.headers,
        timeout=5,
    )
    assert missing.status_code == 404


def test_it_keeps_the_fields_of_an_integration_app(api):
    # Conformance case 12.
    step = {
        "name": "NetSuite Connection",
        "completed": False,
        "installerFunction": "verifyNetSuiteConnection",
        "uninstallerFunction": "deleteNetSuiteConnection",
    }
    body = {
        "name": "BigCommerce - NetSuite Connector",
        "_connectorId": "56fd5ad0945a2345c4e678ac",
        "install": [step] * 4,
        "mode": "install",
        "settings": {"sections": [{"temp": "remove_me"}], "commonresources": {"a": "b"}},
        "version": "1.0.1",
    }
    created = api.create("integrations", body)
    fetched = api.get(f"/integrations/{created['_id']}").json()
    for field, value in body.items():
        assert fetched[field] == value

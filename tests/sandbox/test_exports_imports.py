"""Exports and imports: references, case-sensitive adaptor types, secrets, PUT, filters."""

from tests.sandbox.payloads import http_connection


def test_it_keeps_secrets_masked_across_a_put(api, control):
    # Conformance case 29.
    created = api.create("exports", {"name": "Hook", "type": "webhook", "webhook": {"key": "k1"}})
    assert created["webhook"]["key"] == "******"
    assert created["apiIdentifier"].startswith("e")
    body = {"name": "Renamed", "type": "webhook", "webhook": {"key": "k2"}}
    updated = api.put(f"/exports/{created['_id']}", json=body)
    assert updated.status_code == 200
    assert updated.json()["name"] == "Renamed"
    assert updated.json()["webhook"]["key"] == "******"
    assert updated.json()["lastModified"] >= created["lastModified"]
    assert updated.json()["apiIdentifier"] == created["apiIdentifier"]
    stored = control.objects("exports", reveal=True)["objects"]["exports"][0]
    assert stored["webhook"]["key"] == "k2"


def test_it_checks_references_and_adaptor_types(api):
    missing = "5f0000000000000000000000"
    bad_connection = api.post("/exports", json={"name": "E", "_connectionId": missing})
    assert bad_connection.status_code == 422
    assert bad_connection.json()["errors"][0]["field"] == "_connectionId"
    bad_integration = api.post("/imports", json={"name": "I", "_integrationId": missing})
    assert bad_integration.json()["errors"][0]["field"] == "_integrationId"
    wrong_case = api.post("/imports", json={"name": "I", "adaptorType": "httpImport"})
    assert wrong_case.status_code == 422
    assert wrong_case.json()["errors"][0] == {
        "code": "invalid_field",
        "message": "'httpImport' is not a valid adaptorType.",
        "field": "adaptorType",
    }
    assert api.post("/imports", json={"name": "I", "adaptorType": "HTTPImport"}).status_code == 201


def test_it_filters_and_pages_exports_and_imports(api):
    connection = api.create("connections", http_connection("https://x", "k"))
    api.create(
        "imports", {"name": "A", "adaptorType": "HTTPImport", "_connectionId": connection["_id"]}
    )
    api.create("imports", {"name": "B", "adaptorType": "FTPImport"})
    by_type = api.get("/imports", params={"adaptorType": "HTTPImport"}).json()
    assert [i["name"] for i in by_type] == ["A"]
    by_connection = api.get("/imports", params={"_connectionId": connection["_id"]}).json()
    assert [i["name"] for i in by_connection] == ["A"]
    assert api.get("/exports").status_code == 200
    assert api.get("/exports").json() == []


def test_it_patches_only_documented_export_paths_and_any_import_path(api):
    export = api.create("exports", {"name": "E"})
    ok = api.patch(
        f"/exports/{export['_id']}",
        json=[{"op": "add", "path": "/debugUntil", "value": "2030-01-01T00:00:00.000Z"}],
    )
    assert ok.status_code == 204
    refused = api.patch(
        f"/exports/{export['_id']}", json=[{"op": "replace", "path": "/name", "value": "x"}]
    )
    assert refused.status_code == 422
    imp = api.create("imports", {"name": "I"})
    renamed = api.patch(
        f"/imports/{imp['_id']}", json=[{"op": "replace", "path": "/name", "value": "J"}]
    )
    assert renamed.status_code == 204
    assert api.get(f"/imports/{imp['_id']}").json()["name"] == "J"
    assert api.delete(f"/imports/{imp['_id']}").status_code == 204

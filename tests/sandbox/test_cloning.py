"""Clone: the manifest, connection mapping, copies of unmapped connections, independence."""

import pytest
import requests

from tests.sandbox.payloads import http_connection


def _manifest_ids(manifest: list[dict], model: str) -> list[str]:
    return [entry["_id"] for entry in manifest if entry["model"] == model]


def test_it_clones_the_seeded_template_with_a_connection_map(api, control, sandbox_clean):
    # Conformance case 14.
    ids = control.seed()
    template = ids["integrationId"]
    shop = api.create(
        "connections",
        http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"]),
    )
    body = {
        "name": "Tenant 42",
        "tag": "tenant-42",
        "connectionMap": {ids["connectionIds"]["shop"]: shop["_id"]},
    }
    response = api.post(f"/integrations/{template}/clone", json=body)
    assert response.status_code == 201
    manifest = response.json()
    assert manifest[0]["model"] == "Integration"
    models = [entry["model"] for entry in manifest]
    assert models.count("Integration") == 1
    assert models.count("Flow") == 3
    assert models.count("Export") == 3
    assert models.count("Import") == 3
    # The ERP connection was not mapped: it is copied (the documented guess).
    assert models.count("Connection") == 1
    assert all(entry.get("name") for entry in manifest if entry["model"] == "Flow")

    new_id = manifest[0]["_id"]
    integration = api.get(f"/integrations/{new_id}").json()
    assert integration["name"] == "Tenant 42"
    assert integration["tag"] == "tenant-42"
    assert integration["_sourceId"] == template
    assert integration["settings"] == api.get(f"/integrations/{template}").json()["settings"]

    flows = api.get(f"/integrations/{new_id}/flows").json()
    assert sorted(f["_id"] for f in flows) == sorted(_manifest_ids(manifest, "Flow"))
    assert {f["_sourceId"] for f in flows} == set(ids["flowIds"])
    assert all("schedule" not in f for f in flows)
    new_exports = set(_manifest_ids(manifest, "Export"))
    new_imports = set(_manifest_ids(manifest, "Import"))
    for flow in flows:
        assert flow["pageGenerators"][0]["_exportId"] in new_exports
        assert flow["pageProcessors"][0]["_importId"] in new_imports

    copied_erp = _manifest_ids(manifest, "Connection")[0]
    exports = api.get(f"/integrations/{new_id}/exports").json()
    imports = api.get(f"/integrations/{new_id}/imports").json()
    used = {doc["_connectionId"] for doc in exports + imports}
    assert used == {shop["_id"], copied_erp}
    assert ids["connectionIds"]["shop"] not in used
    copied = control.objects("connections", reveal=True)["objects"]["connections"]
    erp_copy = next(c for c in copied if c["_id"] == copied_erp)
    assert erp_copy["_sourceId"] == ids["connectionIds"]["erp"]
    assert erp_copy["http"]["auth"]["token"]["token"] == sandbox_clean.demo_keys["erp"]


def test_it_keeps_the_copy_independent_of_the_source(api, control):
    ids = control.seed()
    template = ids["integrationId"]
    manifest = api.post(f"/integrations/{template}/clone", json={"name": "Copy"}).json()
    new_id = manifest[0]["_id"]
    ops = [{"op": "replace", "path": "/settings/erpSubsidiary", "value": "tenant"}]
    api.patch(f"/integrations/{new_id}", json=ops)
    assert api.get(f"/integrations/{template}").json()["settings"]["erpSubsidiary"] == "default"
    flow_id = _manifest_ids(manifest, "Flow")[0]
    api.patch(f"/flows/{flow_id}", json=[{"op": "replace", "path": "/name", "value": "Mine"}])
    assert all(f["name"] != "Mine" for f in api.get(f"/integrations/{template}/flows").json())
    api.delete(f"/integrations/{template}")
    assert api.get(f"/integrations/{new_id}").status_code == 200
    assert api.get(f"/flows/{flow_id}").status_code == 200


def test_it_names_a_clone_by_default_and_counts_every_copy(api, control):
    ids = control.seed()
    before = control.counts()
    manifest = api.post(f"/integrations/{ids['integrationId']}/clone", json={}).json()
    integration = api.get(f"/integrations/{manifest[0]['_id']}").json()
    assert integration["name"] == "Clone - Shop -> ERP order sync"
    after = control.counts()
    assert after["integrations"] == before["integrations"] + 1
    assert after["flows"] == before["flows"] + 3
    assert after["connections"] == before["connections"] + 2


def test_it_refuses_a_map_to_a_missing_connection_and_creates_nothing(api, control):
    ids = control.seed()
    before = control.counts()
    body = {"connectionMap": {ids["connectionIds"]["shop"]: "5f0000000000000000000000"}}
    response = api.post(f"/integrations/{ids['integrationId']}/clone", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_connectionMap"
    bad_shape = api.post(f"/integrations/{ids['integrationId']}/clone", json={"connectionMap": []})
    assert bad_shape.status_code == 400
    assert control.counts() == before


def test_it_answers_404_when_cloning_an_unknown_integration(api):
    response = api.post("/integrations/5f0000000000000000000000/clone", json={})
    assert response.status_code == 404


def test_it_clones_a_flow_into_an_integration(api, control):
    # Conformance case 15.
    ids = control.seed()
    flow_id = ids["flowIds"][0]
    no_target = api.post(f"/flows/{flow_id}/clone", json={"name": "c"})
    assert no_target.status_code == 400
    error = no_target.json()["errors"][0]
    assert error["code"] == "invalid_ref"
    assert error["message"] == "Integration not found for the given id"
    target = api.create("integrations", {"name": "Target"})
    no_map = api.post(
        f"/flows/{flow_id}/clone", json={"name": "c", "_integrationId": target["_id"]}
    )
    assert no_map.status_code == 400
    assert no_map.json()["errors"][0]["code"] == "invalid_connectionMap"
    connection_map = {
        ids["connectionIds"]["shop"]: ids["connectionIds"]["shop"],
        ids["connectionIds"]["erp"]: ids["connectionIds"]["erp"],
    }
    body = {"name": "c", "_integrationId": target["_id"], "connectionMap": connection_map}
    response = api.post(f"/flows/{flow_id}/clone", json=body)
    assert response.status_code == 201
    models = sorted(entry["model"] for entry in response.json())
    assert models == ["Export", "Flow", "Import"]
    flows = api.get(f"/integrations/{target['_id']}/flows").json()
    assert [(f["name"], f["_sourceId"]) for f in flows] == [("c", flow_id)]


def test_a_flow_clone_carries_source_ids_and_no_schedule(api, control, sandbox_clean):
    ids = control.seed()
    flow_id = ids["flowIds"][0]  # scheduled: "? */15 * ? * *"
    source = api.get(f"/flows/{flow_id}").json()
    assert source["schedule"]
    ops = [{"op": "add", "path": "/pageGenerators/0/schedule", "value": "? 0 1 ? * *"}]
    assert api.patch(f"/flows/{flow_id}", json=ops).status_code == 204
    target = api.create("integrations", {"name": "Tenant 7"})
    tenant_shop = api.create(
        "connections",
        http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"]),
    )
    erp = ids["connectionIds"]["erp"]
    body = {
        "_integrationId": target["_id"],
        "connectionMap": {ids["connectionIds"]["shop"]: tenant_shop["_id"], erp: erp},
    }
    response = api.post(f"/flows/{flow_id}/clone", json=body)
    assert response.status_code == 201
    manifest = response.json()
    [new_flow_id] = _manifest_ids(manifest, "Flow")
    [new_export_id] = _manifest_ids(manifest, "Export")
    [new_import_id] = _manifest_ids(manifest, "Import")

    flow = api.get(f"/flows/{new_flow_id}").json()
    assert flow["_sourceId"] == flow_id
    assert flow["_integrationId"] == target["_id"]
    assert flow["name"] == "Clone - " + source["name"]
    assert "schedule" not in flow
    assert "schedule" not in flow["pageGenerators"][0]
    assert flow["timezone"] == source["timezone"]
    assert flow["disabled"] == source["disabled"]
    assert flow["pageGenerators"][0]["_exportId"] == new_export_id
    assert flow["pageProcessors"][0]["_importId"] == new_import_id

    export = api.get(f"/exports/{new_export_id}").json()
    assert export["_sourceId"] == ids["exportIds"][0]
    assert export["_connectionId"] == tenant_shop["_id"]
    assert export["_integrationId"] == target["_id"]
    assert (
        export["apiIdentifier"]
        != api.get(f"/exports/{ids['exportIds'][0]}").json()["apiIdentifier"]
    )
    imported = api.get(f"/imports/{new_import_id}").json()
    assert imported["_sourceId"] == ids["importIds"][0]
    assert imported["_connectionId"] == erp
    # The source keeps its schedules.
    assert api.get(f"/flows/{flow_id}").json()["schedule"] == source["schedule"]


def test_a_flow_clone_needs_every_connection_in_the_map(api, control):
    ids = control.seed()
    target = api.create("integrations", {"name": "Tenant 8"})
    body = {
        "_integrationId": target["_id"],
        "connectionMap": {ids["connectionIds"]["shop"]: ids["connectionIds"]["shop"]},
    }
    before = control.counts()
    response = api.post(f"/flows/{ids['flowIds'][0]}/clone", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_connectionMap"
    unknown = {**body, "_integrationId": "5f0000000000000000000000"}
    assert api.post(f"/flows/{ids['flowIds'][0]}/clone", json=unknown).status_code == 400
    assert control.counts() == before
    assert api.post("/flows/5f0000000000000000000000/clone", json=body).status_code == 404


def test_an_integration_clone_cancels_jobs_on_the_source_connections(api, control, sandbox_clean):
    # Documented side effect: "cancels jobs in progress on the source integration's connections".
    control.configure(job_queue_seconds=60, job_run_seconds=60, job_cancel_seconds=0.1)
    ids = control.seed()
    shop, erp = ids["connectionIds"]["shop"], ids["connectionIds"]["erp"]
    # A flow elsewhere that (wrongly) shares the template's shop connection.
    other = api.create("integrations", {"name": "Elsewhere"})
    shared_export = api.create(
        "exports", {"name": "Shared", "_connectionId": shop, "_integrationId": other["_id"]}
    )
    shared_flow = api.create(
        "flows",
        {
            "name": "Shares the template's connection",
            "_integrationId": other["_id"],
            "pageGenerators": [{"_exportId": shared_export["_id"]}],
        },
    )
    # A flow on a connection of its own.
    own = api.create(
        "connections",
        http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"]),
    )
    own_export = api.create("exports", {"name": "Own", "_connectionId": own["_id"]})
    own_flow = api.create(
        "flows", {"name": "Own", "pageGenerators": [{"_exportId": own_export["_id"]}]}
    )

    def run(flow_id):
        return api.post(f"/flows/{flow_id}/run", json={}).json()["_jobId"]

    finished = run(ids["flowIds"][1])
    assert control.advance_job(finished, to="end")["status"] == "completed"
    queued = run(ids["flowIds"][0])
    running = run(ids["flowIds"][2])
    control.advance_job(running)
    shared = run(shared_flow["_id"])
    untouched = run(own_flow["_id"])

    body = {"connectionMap": {shop: own["_id"], erp: erp}}
    assert api.post(f"/integrations/{ids['integrationId']}/clone", json=body).status_code == 201
    for job_id in (queued, running, shared):
        job = api.get(f"/jobs/{job_id}").json()
        assert job["status"] in ("canceling", "canceled"), job_id
        children = api.get("/jobs", params={"_flowJobId": job_id, "type_in": "export,import"})
        assert all(c["status"] in ("canceling", "canceled") for c in children.json())
    assert api.get(f"/jobs/{untouched}").json()["status"] == "queued"
    assert api.get(f"/jobs/{finished}").json()["status"] == "completed"
    assert control.advance_job(queued, to="end")["status"] == "canceled"


def _clone_fully_mapped(api, control, sandbox_clean) -> tuple[dict, list[dict], dict]:
    ids = control.seed()
    mapped = {}
    for slot, template_connection in ids["connectionIds"].items():
        own = api.create(
            "connections",
            http_connection(sandbox_clean.demo_url(slot), sandbox_clean.demo_keys[slot]),
        )
        mapped[template_connection] = own["_id"]
    body = {"name": "Tenant 7", "connectionMap": mapped}
    response = api.post(f"/integrations/{ids['integrationId']}/clone", json=body)
    assert response.status_code == 201, response.text
    return ids, response.json(), mapped


def test_the_clone_fault_control_drops_the_last_flow(api, control, sandbox_clean):
    control.configure(clone_fault="drop_flow")
    ids, manifest, _ = _clone_fully_mapped(api, control, sandbox_clean)

    assert len(_manifest_ids(manifest, "Flow")) == 2
    flows = api.get(f"/integrations/{manifest[0]['_id']}/flows").json()
    assert {f["_sourceId"] for f in flows} == set(ids["flowIds"][:2])


def test_the_clone_fault_control_leaves_an_import_on_the_source_connection(
    api, control, sandbox_clean
):
    control.configure(clone_fault="keep_source_connection")
    _, manifest, mapped = _clone_fully_mapped(api, control, sandbox_clean)

    imports = api.get(f"/integrations/{manifest[0]['_id']}/imports").json()
    wrong = [i for i in imports if i["_connectionId"] in mapped]
    assert len(wrong) == 1
    used = {c["_id"] for c in api.get(f"/integrations/{manifest[0]['_id']}/connections").json()}
    assert wrong[0]["_connectionId"] in used
    assert not _manifest_ids(manifest, "Connection")


def test_the_clone_fault_control_refuses_an_unknown_fault(control):
    with pytest.raises(requests.HTTPError) as refused:
        control.configure(clone_fault="shuffle")
    assert refused.value.response.status_code in (400, 422)

"""The demo template's version 1.1.0, seeded beside 1.0.0 on request: what differs, and that
its new flow's targets answer."""

import requests

from sandbox import seed
from sandbox.settings import DEFAULT_API_TOKEN
from tests.fixtures.sandbox import SandboxProcess

CHANGED_EXPORT_FIELDS = {"_id", "createdAt", "lastModified", "apiIdentifier", "_integrationId"}


def _strip(doc: dict, *extra: str) -> dict:
    return {k: v for k, v in doc.items() if k not in CHANGED_EXPORT_FIELDS | set(extra)}


def test_the_default_seed_has_only_version_1_0_0_and_lists_both(control):
    ids = control.seed()
    assert ids["seededVersions"] == ["1.0.0"]
    first = ids["versions"]["1.0.0"]
    assert {k: ids[k] for k in first} == first
    assert ids["versions"]["1.1.0"]["integrationId"] == seed.DEMO_V110_INTEGRATION_ID
    assert control.counts()["integrations"] == 1


def test_it_seeds_version_1_1_0_beside_1_0_0_with_fixed_ids(api, control):
    ids = control.seed(versions=["1.1.0"])
    assert ids["created"] is True
    assert ids["seededVersions"] == ["1.0.0", "1.1.0"]
    old, new = ids["versions"]["1.0.0"], ids["versions"]["1.1.0"]
    assert new == {
        "integrationId": "5eed00000000000000000a11",
        "connectionIds": old["connectionIds"],
        "flowIds": [f"5eed00000000000000000f1{n}" for n in range(1, 5)],
        "exportIds": [f"5eed00000000000000000e1{n}" for n in range(1, 5)],
        "importIds": [f"5eed00000000000000000d1{n}" for n in range(1, 5)],
    }
    counts = control.counts()
    assert (counts["integrations"], counts["connections"]) == (2, 2)
    assert (counts["flows"], counts["exports"], counts["imports"]) == (7, 7, 7)
    assert control.seed(versions=["1.1.0"])["created"] is False
    assert control.counts() == counts

    v1 = api.get(f"/integrations/{old['integrationId']}").json()
    v2 = api.get(f"/integrations/{new['integrationId']}").json()
    assert (v1["version"], v2["version"]) == ("1.0.0", "1.1.0")
    assert v2["name"] == v1["name"]
    assert v2["settings"] == v1["settings"]
    assert v2["_registeredConnectionIds"] == v1["_registeredConnectionIds"]

    # The three common flows are copies, pointing at 1.1.0's own exports and imports.
    for index in range(3):
        flow_old = api.get(f"/flows/{old['flowIds'][index]}").json()
        flow_new = api.get(f"/flows/{new['flowIds'][index]}").json()
        assert _strip(flow_new, "pageGenerators", "pageProcessors") == _strip(
            flow_old, "pageGenerators", "pageProcessors"
        )
        assert flow_new["pageGenerators"] == [{"_exportId": new["exportIds"][index]}]
        assert flow_new["pageProcessors"] == [
            {"type": "import", "_importId": new["importIds"][index]}
        ]
        assert flow_new["_integrationId"] == new["integrationId"]
        import_old = api.get(f"/imports/{old['importIds'][index]}").json()
        import_new = api.get(f"/imports/{new['importIds'][index]}").json()
        assert _strip(import_new) == _strip(import_old)

    # Exactly one export field changed: the orders export's http.relativeURI.
    export_old = api.get(f"/exports/{old['exportIds'][0]}").json()
    export_new = api.get(f"/exports/{new['exportIds'][0]}").json()
    assert export_old["http"]["relativeURI"] == "/orders"
    assert export_new["http"]["relativeURI"] == "/orders?status=paid,processing"
    assert _strip(export_new, "http") == _strip(export_old, "http")
    assert {k: v for k, v in export_new["http"].items() if k != "relativeURI"} == {
        k: v for k, v in export_old["http"].items() if k != "relativeURI"
    }
    for index in (1, 2):
        unchanged_old = api.get(f"/exports/{old['exportIds'][index]}").json()
        unchanged_new = api.get(f"/exports/{new['exportIds'][index]}").json()
        assert _strip(unchanged_new) == _strip(unchanged_old)

    # The new flow: shop refunds to ERP credit memos.
    refunds = api.get(f"/flows/{new['flowIds'][3]}").json()
    assert refunds["name"] == "Shop refunds to ERP credit memos"
    assert refunds["disabled"] is True
    export = api.get(f"/exports/{new['exportIds'][3]}").json()
    imported = api.get(f"/imports/{new['importIds'][3]}").json()
    assert (export["_connectionId"], export["http"]["relativeURI"]) == (
        old["connectionIds"]["shop"],
        "/refunds",
    )
    assert (imported["_connectionId"], imported["http"]["relativeURI"]) == (
        old["connectionIds"]["erp"],
        ["/creditmemos"],
    )
    flows = api.get(f"/integrations/{new['integrationId']}/flows").json()
    assert sorted(f["_id"] for f in flows) == sorted(new["flowIds"])


def test_it_refuses_an_unknown_version(sandbox_clean):
    response = requests.post(
        sandbox_clean.base_url + "/_sandbox/seed",
        json={"versions": ["9.9.9"]},
        headers={"Authorization": f"Bearer {sandbox_clean.control_token}"},
        timeout=5,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "versions"
    assert sandbox_clean.control.counts()["integrations"] == 0


def test_the_demo_apps_answer_the_new_flow_and_the_changed_export(api, control, sandbox_clean):
    new = control.seed(versions=["1.1.0"])["versions"]["1.1.0"]
    shop, erp = new["connectionIds"]["shop"], new["connectionIds"]["erp"]
    exports = {e["_id"]: e for e in api.get(f"/integrations/{new['integrationId']}/exports").json()}

    def export_page(export_id: str, connection_id: str) -> list[dict]:
        spec = {"pageSize": 10, "http": exports[export_id]["http"]}
        response = api.post(f"/connections/{connection_id}/export/pages", json={"export": spec})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    refunds = export_page(new["exportIds"][3], shop)
    assert [r["id"] for r in refunds] == ["RF-2001", "RF-2002"]
    orders = export_page(new["exportIds"][0], shop)
    assert orders and {o["status"] for o in orders} <= {"paid", "processing"}

    credit_memos = api.get(f"/imports/{new['importIds'][3]}").json()
    response = api.post(
        f"/connections/{erp}/import",
        json={
            "import": {"http": credit_memos["http"], "mapping": credit_memos["mapping"]},
            "data": refunds[:1],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()[0]["statusCode"] == 200
    listed = requests.get(
        sandbox_clean.demo_url("erp") + "/creditmemos",
        params={"api_key": sandbox_clean.demo_keys["erp"]},
        timeout=5,
    ).json()
    assert listed[-1]["externalId"] == "RF-2001"

    control.configure(job_queue_seconds=0, job_run_seconds=0)
    job_id = api.post(f"/flows/{new['flowIds'][3]}/run", json={}).json()["_jobId"]
    job = control.advance_job(job_id, to="end")
    assert job["status"] == "completed"
    assert job["_integrationId"] == new["integrationId"]


def test_the_command_line_seeds_version_1_1_0_when_asked():
    process = SandboxProcess("--seed-version", "1.1.0")
    try:
        listed = requests.get(
            process.base_url + "/v1/integrations",
            headers={"Authorization": f"Bearer {DEFAULT_API_TOKEN}"},
            timeout=5,
        ).json()
        assert sorted((i["_id"], i["version"]) for i in listed) == [
            (seed.DEMO_INTEGRATION_ID, "1.0.0"),
            (seed.DEMO_V110_INTEGRATION_ID, "1.1.0"),
        ]
        assert "demo template integration 1.1.0: " + seed.DEMO_V110_INTEGRATION_ID in "".join(
            process.output
        )
    finally:
        process.stop()

"""The demo template integration evolves in place from 1.0.0 into 1.1.0 and back: same ids
for everything 1.0.0 has, one new flow, one changed export field, and the demo apps answer
the new flow and the changed export."""

import requests

from sandbox import seed
from sandbox.seed_crm import CRM_INTEGRATION_ID
from sandbox.settings import DEFAULT_API_TOKEN
from tests.fixtures.sandbox import SandboxProcess

# Fields the store sets on a write: not part of what a version changes.
_WRITTEN = {"lastModified", "createdAt"}


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in _WRITTEN}


def _template(api) -> dict:
    """The template integration as the API shows it: the integration and its resources."""
    integration_id = seed.DEMO_INTEGRATION_ID
    return {
        "integration": _strip(api.get(f"/integrations/{integration_id}").json()),
        **{
            part: {
                doc["_id"]: _strip(doc)
                for doc in api.get(f"/integrations/{integration_id}/{part}").json()
            }
            for part in ("flows", "exports", "imports")
        },
    }


def test_the_seed_is_version_1_0_0_and_lists_both_versions_ids(control):
    ids = control.seed()
    assert ids["version"] == "1.0.0"
    first, second = ids["versions"]["1.0.0"], ids["versions"]["1.1.0"]
    assert {k: ids[k] for k in first} == first
    # One integration: 1.1.0 has every id of 1.0.0, and the refunds flow's last.
    assert second["integrationId"] == first["integrationId"] == seed.DEMO_INTEGRATION_ID
    assert second["flowIds"] == [*first["flowIds"], "5eed00000000000000000f04"]
    assert second["exportIds"] == [*first["exportIds"], "5eed00000000000000000e04"]
    assert second["importIds"] == [*first["importIds"], "5eed00000000000000000d04"]
    assert control.counts()["integrations"] == 1


def test_it_evolves_the_template_into_1_1_0_in_place(api, control):
    control.seed()
    before = _template(api)
    answer = control.template_version("1.1.0")
    assert answer["changed"] is True
    assert answer["version"] == "1.1.0"
    assert answer["flowIds"][-1] == seed.DEMO_REFUNDS_FLOW_ID
    after = _template(api)
    counts = control.counts()
    assert (counts["integrations"], counts["connections"]) == (1, 2)
    assert (counts["flows"], counts["exports"], counts["imports"]) == (4, 4, 4)

    assert after["integration"]["version"] == "1.1.0"
    assert after["integration"]["settings"] == before["integration"]["settings"]
    # Everything 1.0.0 had keeps its id; only the orders export's relativeURI changed.
    for part in ("flows", "exports", "imports"):
        assert before[part].keys() <= after[part].keys()
        for object_id, doc in before[part].items():
            if object_id != seed.DEMO_ORDERS_EXPORT_ID:
                assert after[part][object_id] == doc, object_id
    orders_before = before["exports"][seed.DEMO_ORDERS_EXPORT_ID]
    orders_after = after["exports"][seed.DEMO_ORDERS_EXPORT_ID]
    assert orders_before["http"]["relativeURI"] == "/orders"
    assert orders_after["http"]["relativeURI"] == "/orders?status=paid,processing"
    orders_before["http"].pop("relativeURI")
    orders_after["http"].pop("relativeURI")
    assert orders_after == orders_before

    refunds = after["flows"][seed.DEMO_REFUNDS_FLOW_ID]
    assert refunds["name"] == "Shop refunds to ERP credit memos"
    assert refunds["disabled"] is True
    assert refunds["pageGenerators"] == [{"_exportId": seed.DEMO_REFUNDS_EXPORT_ID}]
    assert refunds["pageProcessors"] == [
        {"type": "import", "_importId": seed.DEMO_CREDIT_MEMOS_IMPORT_ID}
    ]
    export = after["exports"][seed.DEMO_REFUNDS_EXPORT_ID]
    imported = after["imports"][seed.DEMO_CREDIT_MEMOS_IMPORT_ID]
    assert (export["_connectionId"], export["http"]["relativeURI"]) == (
        seed.DEMO_SHOP_CONNECTION_ID,
        "/refunds",
    )
    assert (imported["_connectionId"], imported["http"]["relativeURI"]) == (
        seed.DEMO_ERP_CONNECTION_ID,
        ["/creditmemos"],
    )

    # Asking again changes nothing, not even lastModified.
    objects = control.objects()
    assert control.template_version("1.1.0")["changed"] is False
    assert control.objects() == objects
    assert control.seed()["version"] == "1.1.0"


def test_it_takes_the_template_back_to_1_0_0(api, control):
    control.seed()
    first = _template(api)
    control.template_version("1.1.0")
    assert control.template_version("1.0.0")["changed"] is True
    back = _template(api)
    assert back["integration"]["version"] == "1.0.0"
    assert back == first
    assert control.template_version("1.0.0")["changed"] is False


def test_it_seeds_the_template_when_asked_for_a_version_first(control):
    assert control.template_version("1.1.0")["changed"] is True
    counts = control.counts()
    assert (counts["integrations"], counts["flows"]) == (1, 4)


def test_it_refuses_an_unknown_version_and_the_old_seed_body(sandbox_clean):
    def post(path: str, body: dict) -> requests.Response:
        return requests.post(
            sandbox_clean.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {sandbox_clean.control_token}"},
            timeout=5,
        )

    response = post("/_sandbox/demo/template-version", {"version": "9.9.9"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "version"
    response = post("/_sandbox/seed", {"versions": ["1.1.0"]})
    assert response.status_code == 422
    assert "/_sandbox/demo/template-version" in response.json()["errors"][0]["message"]
    assert sandbox_clean.control.counts()["integrations"] == 0


def test_the_demo_apps_answer_the_new_flow_and_the_changed_export(api, control, sandbox_clean):
    new = control.template_version("1.1.0")
    shop, erp = new["connectionIds"]["shop"], new["connectionIds"]["erp"]
    exports = {e["_id"]: e for e in api.get(f"/integrations/{new['integrationId']}/exports").json()}

    def export_page(export_id: str, connection_id: str) -> list[dict]:
        spec = {"pageSize": 10, "http": exports[export_id]["http"]}
        response = api.post(f"/connections/{connection_id}/export/pages", json={"export": spec})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    refunds = export_page(seed.DEMO_REFUNDS_EXPORT_ID, shop)
    assert [r["id"] for r in refunds] == ["RF-2001", "RF-2002"]
    orders = export_page(seed.DEMO_ORDERS_EXPORT_ID, shop)
    assert orders and {o["status"] for o in orders} <= {"paid", "processing"}

    credit_memos = api.get(f"/imports/{seed.DEMO_CREDIT_MEMOS_IMPORT_ID}").json()
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
    job_id = api.post(f"/flows/{seed.DEMO_REFUNDS_FLOW_ID}/run", json={}).json()["_jobId"]
    job = control.advance_job(job_id, to="end")
    assert job["status"] == "completed"
    assert job["_integrationId"] == seed.DEMO_INTEGRATION_ID


def test_the_command_line_evolves_the_seeded_template_when_asked():
    process = SandboxProcess("--seed-version", "1.1.0")
    try:
        listed = requests.get(
            process.base_url + "/v1/integrations",
            headers={"Authorization": f"Bearer {DEFAULT_API_TOKEN}"},
            timeout=5,
        ).json()
        versions = {i["_id"]: i["version"] for i in listed}
        # The CRM template (seeded beside it) has versions of its own.
        assert versions[seed.DEMO_INTEGRATION_ID] == "1.1.0"
        assert set(versions) == {seed.DEMO_INTEGRATION_ID, CRM_INTEGRATION_ID}
        output = "".join(process.output)
        assert f"demo template integration: {seed.DEMO_INTEGRATION_ID}" in output
        assert "version 1.1.0" in output
    finally:
        process.stop()

"""PUT /{flows|exports|imports}/{id}/replaceConnection: re-pointing steps at another connection."""

import pytest

from tests.sandbox.payloads import http_connection

MISSING = "5f0000000000000000000000"


@pytest.fixture
def seeded(control):
    return control.seed()


@pytest.fixture
def tenant_shop(api, sandbox_clean):
    body = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    return api.create("connections", {**body, "name": "Tenant shop"})


@pytest.mark.parametrize(("collection", "index"), [("exports", 0), ("imports", 2)])
def test_it_sets_the_connection_of_an_export_or_import(api, seeded, tenant_shop, collection, index):
    # The orders export and the stock import are on the shop connection.
    resource_id = seeded[f"{collection[:-1]}Ids"][index]
    before = api.get(f"/{collection}/{resource_id}").json()
    assert before["_connectionId"] == seeded["connectionIds"]["shop"]
    response = api.put(
        f"/{collection}/{resource_id}/replaceConnection",
        json={"_newConnectionId": tenant_shop["_id"]},
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["_id"] == resource_id
    assert updated["_connectionId"] == tenant_shop["_id"]
    assert updated["lastModified"] >= before["lastModified"]
    assert updated["createdAt"] == before["createdAt"]
    unchanged = {k: v for k, v in before.items() if k not in ("_connectionId", "lastModified")}
    assert {k: v for k, v in updated.items() if k in unchanged} == unchanged
    assert api.get(f"/{collection}/{resource_id}").json() == updated


def test_it_moves_every_step_of_a_flow_from_one_connection_to_another(api, seeded, tenant_shop):
    # The stock flow exports from the ERP and imports into the shop.
    flow_id = seeded["flowIds"][2]
    export_id, import_id = seeded["exportIds"][2], seeded["importIds"][2]
    shop, erp = seeded["connectionIds"]["shop"], seeded["connectionIds"]["erp"]
    before = api.get(f"/flows/{flow_id}").json()
    body = {"_connectionId": shop, "_newConnectionId": tenant_shop["_id"]}
    response = api.put(f"/flows/{flow_id}/replaceConnection", json=body)
    assert response.status_code == 200
    flow = response.json()
    assert flow["_id"] == flow_id
    assert flow["pageGenerators"] == before["pageGenerators"]
    assert flow["pageProcessors"] == before["pageProcessors"]
    assert flow["lastModified"] >= before["lastModified"]
    assert api.get(f"/imports/{import_id}").json()["_connectionId"] == tenant_shop["_id"]
    assert api.get(f"/exports/{export_id}").json()["_connectionId"] == erp
    # Steps of other flows on the same connection are left alone.
    assert api.get(f"/exports/{seeded['exportIds'][0]}").json()["_connectionId"] == shop


def test_it_answers_404_for_an_unknown_resource(api, seeded, tenant_shop):
    body = {"_connectionId": MISSING, "_newConnectionId": tenant_shop["_id"]}
    for collection in ("flows", "exports", "imports"):
        response = api.put(f"/{collection}/{MISSING}/replaceConnection", json=body)
        assert response.status_code == 404, collection
        assert response.json()["errors"][0]["code"] == "not_found"


def test_it_refuses_a_missing_or_unknown_new_connection(api, seeded):
    export_id = seeded["exportIds"][0]
    url = f"/exports/{export_id}/replaceConnection"
    for body in ({}, {"_newConnectionId": ""}, None):
        response = api.put(url, json=body)
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert (error["code"], error["field"]) == ("missing_required_field", "_newConnectionId")
    for new_id in (MISSING, 42):
        response = api.put(url, json={"_newConnectionId": new_id})
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert (error["code"], error["field"]) == ("invalid_ref", "_newConnectionId")
    assert api.put(url, json=["x"]).status_code == 422
    assert (
        api.get(f"/exports/{export_id}").json()["_connectionId"]
        == (seeded["connectionIds"]["shop"])
    )


def test_it_refuses_a_flow_body_without_a_connection_it_uses(api, seeded, tenant_shop):
    flow_id = seeded["flowIds"][0]
    url = f"/flows/{flow_id}/replaceConnection"
    no_old = api.put(url, json={"_newConnectionId": tenant_shop["_id"]})
    assert no_old.status_code == 422
    assert no_old.json()["errors"][0]["field"] == "_connectionId"
    assert no_old.json()["errors"][0]["code"] == "missing_required_field"
    unused = api.put(url, json={"_connectionId": MISSING, "_newConnectionId": tenant_shop["_id"]})
    assert unused.status_code == 422
    assert unused.json()["errors"][0]["code"] == "invalid_field"
    unknown_new = api.put(
        url, json={"_connectionId": seeded["connectionIds"]["shop"], "_newConnectionId": MISSING}
    )
    assert unknown_new.status_code == 422
    assert unknown_new.json()["errors"][0]["code"] == "invalid_ref"


def test_it_refuses_a_connection_of_another_type_and_changes_nothing(api, seeded):
    netsuite = api.create(
        "connections",
        {
            "type": "netsuite",
            "name": "NS",
            "netsuite": {"authType": "token", "account": "1", "tokenId": "a", "tokenSecret": "b"},
        },
    )
    flow_id = seeded["flowIds"][0]
    shop = seeded["connectionIds"]["shop"]
    body = {"_connectionId": shop, "_newConnectionId": netsuite["_id"]}
    response = api.put(f"/flows/{flow_id}/replaceConnection", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "_newConnectionId"
    assert api.get(f"/exports/{seeded['exportIds'][0]}").json()["_connectionId"] == shop


def test_it_masks_secrets_in_the_answer(api, control, seeded, tenant_shop):
    export = api.create(
        "exports",
        {
            "name": "Hook",
            "_connectionId": seeded["connectionIds"]["shop"],
            "adaptorType": "WebhookExport",
            "webhook": {"provider": "custom", "verify": "token", "token": "s3cret"},
        },
    )
    response = api.put(
        f"/exports/{export['_id']}/replaceConnection",
        json={"_newConnectionId": tenant_shop["_id"]},
    )
    assert response.json()["webhook"]["token"] == "******"
    stored = control.objects("exports", reveal=True)["objects"]["exports"]
    assert next(e for e in stored if e["_id"] == export["_id"])["webhook"]["token"] == "s3cret"

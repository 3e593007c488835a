"""Virtual export (paged, signed state) and virtual import on a saved connection."""

from tests.sandbox.payloads import http_connection


def _netsuite(api) -> dict:
    body = {
        "type": "netsuite",
        "name": "NS",
        "netsuite": {"authType": "token", "account": "1", "tokenId": "a", "tokenSecret": "b"},
    }
    return api.create("connections", body)


def test_it_pages_a_virtual_export_with_the_state_sent_back(api, control):
    # Conformance case 10.
    control.configure(job_records=12)
    connection = _netsuite(api)
    url = f"/connections/{connection['_id']}/export/pages"
    export = {"asynchronous": True, "pageSize": 5, "netsuite": {"type": "search"}}
    first = api.post(url, json={"export": export})
    assert first.status_code == 200
    body = first.json()
    assert len(body["data"]) == 5
    assert body["dataURIs"] == [None] * 5
    state = body["pagedExportState"]
    assert state["pageIndex"] == 2
    assert state["pageSize"] == 5
    assert state["totalPages"] == 3
    assert state["totalRecords"] == 12
    assert state["done"] is False
    assert {"searchId", "issuedAt", "sig"} <= set(state)
    second = api.post(url, json={"export": export, "pagedExportState": state}).json()
    assert second["pagedExportState"]["pageIndex"] == 3
    assert second["data"] != body["data"]
    third = api.post(url, json={"export": export, "pagedExportState": second["pagedExportState"]})
    assert len(third.json()["data"]) == 2
    assert third.json()["pagedExportState"]["done"] is True
    tampered = {**state, "pageIndex": 7}
    assert api.post(url, json={"export": export, "pagedExportState": tampered}).status_code == 422


def test_it_exports_real_records_from_the_demo_shop(api, sandbox_clean):
    shop = http_connection(sandbox_clean.demo_url("shop"), sandbox_clean.demo_keys["shop"])
    connection = api.create("connections", shop)
    export = {"pageSize": 3, "http": {"relativeURI": "/orders", "method": "GET"}}
    page = api.post(f"/connections/{connection['_id']}/export/pages", json={"export": export})
    assert [order["id"] for order in page.json()["data"]] == ["SO-1001", "SO-1002", "SO-1003"]
    assert page.json()["pagedExportState"]["totalRecords"] == 4
    wrong_key = api.create("connections", http_connection(sandbox_clean.demo_url("shop"), "bad"))
    refused = api.post(f"/connections/{wrong_key['_id']}/export/pages", json={"export": export})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == 401


def test_it_imports_records_into_the_demo_erp(api, sandbox_clean):
    # Conformance case 11, against a real target.
    erp = http_connection(sandbox_clean.demo_url("erp"), sandbox_clean.demo_keys["erp"])
    connection = api.create("connections", erp)
    body = {
        "import": {
            "mapping": {
                "fields": [
                    {"extract": "timestamp", "generate": "timestamp"},
                    {"generate": "key", "hardCodedValue": "sqs_flow"},
                ]
            },
            "http": {"relativeURI": ["/salesorders"], "method": ["POST"]},
        },
        "data": [{"timestamp": 1512012818751 + n} for n in range(4)],
    }
    response = api.post(f"/connections/{connection['_id']}/import", json=body)
    assert response.status_code == 200
    results = response.json()
    assert len(results) == 4
    for number, result in enumerate(results):
        assert result["statusCode"] == 200
        assert result["id"]
        assert result["_json"]["key"] == "sqs_flow"
        assert result["_json"]["timestamp"] == 1512012818751 + number


def test_it_imports_made_up_results_for_unreachable_types(api):
    connection = _netsuite(api)
    body = {"import": {}, "data": [{"a": 1}, {"a": 2}]}
    results = api.post(f"/connections/{connection['_id']}/import", json=body).json()
    assert [r["statusCode"] for r in results] == [200, 200]
    assert [r["_json"]["a"] for r in results] == [1, 2]
    assert (
        api.post(f"/connections/{connection['_id']}/import", json={"import": {}}).status_code == 422
    )

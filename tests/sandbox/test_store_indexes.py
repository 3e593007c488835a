"""The store's indexes follow every change: a lookup finds what a full scan would."""

from sandbox.models.flow_rules import flows_using_connections
from sandbox.models.integration_rules import integration_connection_ids, integration_members
from sandbox.models.store import Store
from sandbox.models.store_indexes import STORE_INDEXES


def _flow(integration_id: str, export_id: str, import_id: str) -> dict:
    return {
        "name": "F",
        "_integrationId": integration_id,
        "pageGenerators": [{"_exportId": export_id}],
        "pageProcessors": [{"type": "import", "_importId": import_id}],
    }


def _account() -> tuple[Store, dict]:
    store = Store(indexes=STORE_INDEXES)
    ids = {}
    for name in ("a", "b"):
        ids[name] = store.insert("integrations", {"name": name})["_id"]
        ids[f"c{name}"] = store.insert("connections", {"name": name})["_id"]
        ids[f"e{name}"] = store.insert(
            "exports", {"_integrationId": ids[name], "_connectionId": ids[f"c{name}"]}
        )["_id"]
        ids[f"i{name}"] = store.insert(
            "imports", {"_integrationId": ids[name], "_connectionId": ids[f"c{name}"]}
        )["_id"]
        flow = _flow(ids[name], ids[f"e{name}"], ids[f"i{name}"])
        ids[f"f{name}"] = store.insert("flows", flow)["_id"]
    return store, ids


def _member_ids(store: Store, collection: str, integration_id: str) -> list[str]:
    return [doc["_id"] for doc in integration_members(store, collection, integration_id)]


def test_lookups_find_each_integrations_own_members():
    store, ids = _account()
    assert _member_ids(store, "flows", ids["a"]) == [ids["fa"]]
    assert _member_ids(store, "exports", ids["b"]) == [ids["eb"]]
    assert integration_connection_ids(store, ids["a"]) == [ids["ca"]]
    assert flows_using_connections(store, [ids["cb"]]) == {ids["fb"]}


def test_lookups_follow_a_replace_a_delete_and_a_restore():
    store, ids = _account()
    # The export of flow a moves to connection b: flow a now uses connection b too.
    store.replace("exports", ids["ea"], {"_integrationId": ids["a"], "_connectionId": ids["cb"]})
    assert flows_using_connections(store, [ids["cb"]]) == {ids["fa"], ids["fb"]}
    # Flow b is rewired to a's resources and moved into integration a.
    store.replace("flows", ids["fb"], _flow(ids["a"], ids["ea"], ids["ia"]))
    assert _member_ids(store, "flows", ids["b"]) == []
    assert set(_member_ids(store, "flows", ids["a"])) == {ids["fa"], ids["fb"]}
    assert flows_using_connections(store, [ids["cb"]]) == {ids["fa"], ids["fb"]}
    store.delete("flows", ids["fa"])
    assert _member_ids(store, "flows", ids["a"]) == [ids["fb"]]
    assert flows_using_connections(store, [ids["ca"]]) == {ids["fb"]}

    restored = Store(indexes=STORE_INDEXES)
    restored.restore(store.snapshot())
    assert _member_ids(restored, "flows", ids["a"]) == [ids["fb"]]
    assert flows_using_connections(restored, [ids["cb"]]) == {ids["fb"]}
    restored.clear()
    assert _member_ids(restored, "flows", ids["a"]) == []

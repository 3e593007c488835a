"""`POST /integrations/{id}/clone` and `POST /flows/{id}/clone`: deep copies and a manifest.

An integration clone copies the integration, its flows, exports and imports, maps connections
through `connectionMap`, and (the documented guess) copies the connections the map leaves out.
Every copy carries `_sourceId`. The answer is the manifest of everything created:
[{"model": "Integration", "_id": ...}, {"model": "Flow", "_id": ..., "name": ...}, ...].
Everything is checked before anything is written, so a refused clone creates nothing. An
integration clone then cancels the jobs in progress of every flow on the source's connections
(documented); cloned flows have no `schedule` (documented: schedules are not copied).
"""

import copy

from sandbox import assumptions
from sandbox.exceptions import InvalidConnectionMap, InvalidField, InvalidRef
from sandbox.models.documents import require_object
from sandbox.models.export_import_rules import new_resource_api_identifier
from sandbox.models.flow_rules import (
    flow_connection_ids,
    flow_resources,
    flows_using_connections,
)
from sandbox.models.integration_rules import integration_connection_ids, integration_members
from sandbox.models.job_engine import JobEngine
from sandbox.models.object_ids import new_object_id
from sandbox.models.store import MODELS, Store

COPY_DROPS = frozenset({*assumptions.SERVER_FIELDS, "_sourceId", "lastExecutedAt"})


def integration_clone(
    *,
    store: Store,
    jobs: JobEngine,
    source_id: str,
    body: object,
    keep_tag: bool = True,
    fault: str = "",
) -> list:
    source = store.require("integrations", source_id)
    body = require_object(body)
    name = _clone_name(body, source)
    used = integration_connection_ids(store, source_id)
    connection_map = _connection_map(store, body, used, required=False)
    flows = integration_members(store, "flows", source_id)
    resources = _integration_resources(store, source_id, flows)
    if fault == "drop_flow" and flows:
        # A wrong clone (settings.clone_fault): the last flow is left out, its steps are not.
        flows = sorted(flows, key=lambda flow: flow["_id"])[:-1]
    # Found before the copies exist: a copy mapped onto the same connections has no jobs.
    flows_to_cancel = flows_using_connections(store, used)

    new_integration_id = new_object_id()
    id_map = {source_id: new_integration_id, **connection_map}
    created: list[tuple[str, dict]] = []
    fields = _copied(source, source_id)
    fields["name"] = name
    if "tag" in body:
        if keep_tag:
            fields["tag"] = body["tag"]
        else:
            fields.pop("tag", None)
    for connection_id in used:
        if connection_id in connection_map or not assumptions.CLONE_COPIES_UNMAPPED_CONNECTIONS:
            continue
        connection = store.require("connections", connection_id)
        copied = _copied(connection, connection_id)
        if copied.get("_integrationId") == source_id:
            copied["_integrationId"] = new_integration_id
        created.append(("connections", copied))
        id_map[connection_id] = new_object_id()
    if fields.get("_registeredConnectionIds"):
        fields["_registeredConnectionIds"] = [
            id_map.get(i, i) for i in fields["_registeredConnectionIds"]
        ]
    for _, doc in resources:
        id_map[doc["_id"]] = new_object_id()
    kept_source_connection = False
    for collection, doc in resources:
        copied = _copied_resource(collection, doc, id_map)
        if (
            fault == "keep_source_connection"
            and collection == "imports"
            and not kept_source_connection
            and doc.get("_connectionId")
        ):
            # A wrong clone (settings.clone_fault): this import ignores the connectionMap.
            copied["_connectionId"] = doc["_connectionId"]
            kept_source_connection = True
        created.append((collection, copied))
    for flow in flows:
        id_map[flow["_id"]] = new_object_id()
        created.append(("flows", _copied_flow(flow, id_map)))

    store.insert("integrations", fields, object_id=new_integration_id)
    manifest = [{"model": "Integration", "_id": new_integration_id}]
    manifest += _insert_all(store, created, id_map)
    if assumptions.CLONE_CANCELS_SOURCE_JOBS:
        jobs.cancel_flows(flows_to_cancel)
    return _ordered(manifest)


def flow_clone(*, store: Store, source_id: str, body: object) -> list:
    flow = store.require("flows", source_id)
    body = require_object(body)
    integration_id = body.get("_integrationId")
    if not isinstance(integration_id, str) or store.get("integrations", integration_id) is None:
        raise InvalidRef(
            assumptions.INVALID_REF_MESSAGE,
            field="_integrationId",
            status=assumptions.CLONE_REQUEST_ERROR_STATUS,
        )
    resources = flow_resources(store, flow)
    used = flow_connection_ids(store, flow)
    connection_map = _connection_map(store, body, used, required=bool(used))
    id_map = {flow.get("_integrationId"): integration_id, **connection_map}
    for _, doc in resources:
        id_map[doc["_id"]] = new_object_id()
    created = [(c, _copied_resource(c, d, id_map)) for c, d in resources]
    id_map[source_id] = new_object_id()
    copied_flow = _copied_flow(flow, id_map)
    copied_flow["_integrationId"] = integration_id
    copied_flow["name"] = _clone_name(body, flow)
    created.append(("flows", copied_flow))
    return _ordered(_insert_all(store, created, id_map))


def _connection_map(store: Store, body: dict, used: list[str], *, required: bool) -> dict:
    raw = body.get("connectionMap")
    if raw is None and required:
        raise InvalidConnectionMap("connectionMap is required: the flow uses connections.")
    raw = {} if raw is None else raw
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise InvalidConnectionMap("connectionMap must map connection ids to connection ids.")
    for old, new in raw.items():
        if old not in used and assumptions.CLONE_IGNORES_UNUSED_MAP_KEYS:
            continue
        if store.get("connections", new) is None:
            raise InvalidConnectionMap(f"connectionMap: connection {new!r} does not exist.")
    if required:
        missing = [i for i in used if i not in raw]
        if missing:
            raise InvalidConnectionMap(f"connectionMap has no entry for connection {missing[0]}.")
    return {old: new for old, new in raw.items() if old in used}


def _clone_name(body: dict, source: dict) -> str:
    name = body.get("name")
    if name is None or name == "":
        return assumptions.CLONE_DEFAULT_NAME.format(name=source.get("name", ""))[:100]
    if not isinstance(name, str) or len(name) > 100:
        raise InvalidField("name must be a string of at most 100 characters.", field="name")
    return name


def _integration_resources(store: Store, integration_id: str, flows: list[dict]) -> list:
    """Exports and imports of the integration, and any its flows use without being members."""
    found: dict[str, tuple[str, dict]] = {}
    for collection in ("exports", "imports"):
        for doc in integration_members(store, collection, integration_id):
            found[doc["_id"]] = (collection, doc)
    for flow in flows:
        for collection, doc in flow_resources(store, flow):
            found.setdefault(doc["_id"], (collection, doc))
    return list(found.values())


def _copied(doc: dict, source_id: str) -> dict:
    fields = {k: copy.deepcopy(v) for k, v in doc.items() if k not in COPY_DROPS}
    fields["_sourceId"] = source_id
    return fields


def _copied_resource(collection: str, doc: dict, id_map: dict) -> dict:
    fields = _copied(doc, doc["_id"])
    fields["_id"] = id_map[doc["_id"]]
    for key in ("_integrationId", "_connectionId"):
        if fields.get(key) in id_map:
            fields[key] = id_map[fields[key]]
    fields["apiIdentifier"] = new_resource_api_identifier(collection)
    return fields


def _copied_flow(flow: dict, id_map: dict) -> dict:
    fields = _copied(flow, flow["_id"])
    fields["_id"] = id_map[flow["_id"]]
    if fields.get("_integrationId") in id_map:
        fields["_integrationId"] = id_map[fields["_integrationId"]]
    fields.pop("schedule", None)
    if not assumptions.CLONE_KEEPS_DISABLED:
        fields["disabled"] = True
    for generator in fields.get("pageGenerators") or []:
        generator.pop("schedule", None)
        generator["_exportId"] = id_map.get(generator.get("_exportId"), generator.get("_exportId"))
    processors = list(fields.get("pageProcessors") or [])
    for router in fields.get("routers") or []:
        for branch in router.get("branches") or []:
            processors.extend(branch.get("pageProcessors") or [])
    for processor in processors:
        for key in ("_exportId", "_importId"):
            if processor.get(key) in id_map:
                processor[key] = id_map[processor[key]]
    return fields


def _insert_all(store: Store, created: list[tuple[str, dict]], id_map: dict) -> list[dict]:
    manifest = []
    for collection, fields in created:
        object_id = fields.pop("_id", None) or id_map[fields["_sourceId"]]
        doc = store.insert(collection, fields, object_id=object_id)
        entry = {"model": MODELS[collection], "_id": doc["_id"]}
        if collection == "flows":
            entry["name"] = doc.get("name")
        manifest.append(entry)
    return manifest


def _ordered(manifest: list[dict]) -> list[dict]:
    order = {model: index for index, model in enumerate(assumptions.CLONE_MANIFEST_ORDER)}
    return sorted(manifest, key=lambda entry: order[entry["model"]])

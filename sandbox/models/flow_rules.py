"""Rules for flows: steps that point at existing exports and imports, schedules, defaults."""

import functools
import zoneinfo

from sandbox import assumptions
from sandbox.exceptions import InvalidField, InvalidRef, MissingRequiredField
from sandbox.models.documents import check_name
from sandbox.models.schedule_cron import is_valid_schedule
from sandbox.models.store import Store

ROUTERS_AND_PROCESSORS_MESSAGE = '"pageProcessors" is not allowed when "routers" is present'
INVALID_CRON_MESSAGE = "Invalid cron expression"


def flow_validate(*, store: Store, doc: dict) -> None:
    """Raise an upstream-shaped 422 unless `doc` is a valid flow body."""
    check_name(doc)
    integration_id = doc.get("_integrationId")
    if integration_id is not None and store.get("integrations", integration_id) is None:
        raise InvalidRef(assumptions.INVALID_REF_MESSAGE, field="_integrationId")
    if doc.get("pageProcessors") is not None and doc.get("routers") is not None:
        raise InvalidField(ROUTERS_AND_PROCESSORS_MESSAGE, field="pageProcessors")
    if "disabled" in doc and not isinstance(doc["disabled"], bool):
        raise InvalidField("disabled must be a boolean.", field="disabled")
    _check_schedule(doc.get("schedule"), "schedule")
    timezone = doc.get("timezone")
    if timezone is not None and (not isinstance(timezone, str) or timezone not in _timezones()):
        raise InvalidField(f"{timezone!r} is not a valid timezone.", field="timezone")
    generators = _list_of_objects(doc, "pageGenerators")
    for index, generator in enumerate(generators):
        field = f"pageGenerators[{index}]"
        _check_ref(store, "exports", generator.get("_exportId"), f"{field}._exportId")
        _check_schedule(generator.get("schedule"), f"{field}.schedule")
    _check_processors(store, _list_of_objects(doc, "pageProcessors"), "pageProcessors")
    for r_index, router in enumerate(_list_of_objects(doc, "routers")):
        branches = router.get("branches") or []
        if not isinstance(branches, list):
            raise InvalidField("branches must be an array.", field=f"routers[{r_index}].branches")
        for b_index, branch in enumerate(branches):
            field = f"routers[{r_index}].branches[{b_index}].pageProcessors"
            if not isinstance(branch, dict):
                raise InvalidField("Each branch must be an object.", field=field)
            _check_processors(store, _list_of_objects(branch, "pageProcessors", field), field)


def flow_with_defaults(fields: dict) -> dict:
    """`disabled` defaults to false when left out (documented)."""
    return {**fields, "disabled": fields.get("disabled", False)}


def _check_processors(store: Store, processors: list[dict], where: str) -> None:
    for index, processor in enumerate(processors):
        field = f"{where}[{index}]"
        kind = processor.get("type")
        if kind not in ("export", "import"):
            raise InvalidField(f"{field}.type must be export or import.", field=f"{field}.type")
        key = "_exportId" if kind == "export" else "_importId"
        _check_ref(store, f"{kind}s", processor.get(key), f"{field}.{key}")


def _check_ref(store: Store, collection: str, object_id: object, field: str) -> None:
    if object_id is None or object_id == "":
        raise MissingRequiredField(field)
    if not isinstance(object_id, str) or store.get(collection, object_id) is None:
        model = collection[:-1].capitalize()
        raise InvalidRef(f"{model} not found for the given id: {object_id!r}.", field=field)


def _check_schedule(value: object, field: str) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str) or not is_valid_schedule(value):
        raise InvalidField(INVALID_CRON_MESSAGE, field=field)


def _list_of_objects(doc: dict, name: str, field: str | None = None) -> list[dict]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidField(f"{name} must be an array of objects.", field=field or name)
    return value


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def flow_steps(flow: dict) -> list[tuple[str, str]]:
    """(kind, id) of each step in order: page generators, then processors (routers included)."""
    steps = [("export", pg["_exportId"]) for pg in flow.get("pageGenerators") or []]
    processors = list(flow.get("pageProcessors") or [])
    for router in flow.get("routers") or []:
        for branch in router.get("branches") or []:
            processors.extend(branch.get("pageProcessors") or [])
    for processor in processors:
        if processor.get("type") == "export":
            steps.append(("export", processor["_exportId"]))
        else:
            steps.append(("import", processor["_importId"]))
    return steps


def flow_resources(store: Store, flow: dict) -> list[tuple[str, dict]]:
    """(collection, document) of each export and import the flow's steps use, once each."""
    found: dict[str, tuple[str, dict]] = {}
    for kind, resource_id in flow_steps(flow):
        doc = store.get(f"{kind}s", resource_id)
        if doc is not None:
            found.setdefault(resource_id, (f"{kind}s", doc))
    return list(found.values())


def flow_connection_ids(store: Store, flow: dict) -> list[str]:
    """The connections of the flow's steps, in step order, once each."""
    ids = (doc.get("_connectionId") for _, doc in flow_resources(store, flow))
    return list(dict.fromkeys(i for i in ids if i))


def flows_using_connections(store: Store, connection_ids: list[str]) -> set[str]:
    """Ids of the flows, in any integration, with a step on one of these connections."""
    resources = [
        doc["_id"]
        for collection in ("exports", "imports")
        for doc in store.found(collection, "connection", connection_ids)
    ]
    return {flow["_id"] for flow in store.found("flows", "step", resources)}

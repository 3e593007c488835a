"""`PUT /{flows|exports|imports}/{id}/replaceConnection`: re-point steps at another connection.

The documented body is {"_newConnectionId": id}. An export or import takes it as its
`_connectionId`. A flow has no connection of its own: it names the connection to replace
(assumptions.FLOW_REPLACED_CONNECTION_FIELD) and every export and import of its steps on that
connection moves to the new one. Everything is checked before anything is written.
"""

from sandbox import assumptions
from sandbox.exceptions import InvalidField, InvalidRef, MissingRequiredField
from sandbox.models.documents import require_object
from sandbox.models.flow_rules import flow_resources
from sandbox.models.store import Store

NEW_CONNECTION_FIELD = "_newConnectionId"


def resource_replace_connection(
    *, store: Store, collection: str, resource_id: str, body: object
) -> dict:
    """Set the export's or import's `_connectionId`; the updated document."""
    doc = store.require(collection, resource_id)
    new = _new_connection(store, require_object(body))
    _check_same_type(store, doc.get("_connectionId"), new)
    return store.replace(collection, resource_id, {**doc, "_connectionId": new["_id"]})


def flow_replace_connection(*, store: Store, flow_id: str, body: object) -> dict:
    """Move the flow's steps from one connection to another; the flow (`lastModified` bumped)."""
    flow = store.require("flows", flow_id)
    body = require_object(body)
    new = _new_connection(store, body)
    field = assumptions.FLOW_REPLACED_CONNECTION_FIELD
    old_id = body.get(field)
    if old_id is None or old_id == "":
        raise MissingRequiredField(field, f"{field} (the connection to replace) is required.")
    steps = [
        (c, doc) for c, doc in flow_resources(store, flow) if doc.get("_connectionId") == old_id
    ]
    if not steps:
        raise InvalidField(f"The flow has no step on connection {old_id!r}.", field=field)
    _check_same_type(store, old_id, new)
    for collection, doc in steps:
        store.replace(collection, doc["_id"], {**doc, "_connectionId": new["_id"]})
    return store.replace("flows", flow_id, flow)


def _new_connection(store: Store, body: dict) -> dict:
    new_id = body.get(NEW_CONNECTION_FIELD)
    if new_id is None or new_id == "":
        raise MissingRequiredField(NEW_CONNECTION_FIELD)
    connection = store.get("connections", new_id) if isinstance(new_id, str) else None
    if connection is None:
        raise InvalidRef(
            f"Connection not found for the given id: {new_id!r}.", field=NEW_CONNECTION_FIELD
        )
    return connection


def _check_same_type(store: Store, old_id: object, new: dict) -> None:
    old = store.get("connections", old_id) if isinstance(old_id, str) else None
    if not assumptions.REPLACE_CONNECTION_SAME_TYPE or old is None:
        return
    if old.get("type") != new.get("type"):
        raise InvalidField(
            f"The new connection is of type {new.get('type')!r}; "
            f"the one it replaces is {old.get('type')!r}.",
            field=NEW_CONNECTION_FIELD,
        )

"""The State API's keys: JSON values kept under a name, globally or per resource.

Each scope is its own namespace: the global one, or one saved connection, export, import, flow
or integration (which must exist). The keys live in the store, so they are saved with it.
"""

from sandbox import assumptions
from sandbox.exceptions import NotFound
from sandbox.models.store import Store

GLOBAL_SCOPE = ""
RESOURCE_TYPES = assumptions.STATE_RESOURCE_TYPES


def state_scope(store: Store, resource: str | None, object_id: str | None) -> str:
    """The scope of a request: global without a resource, else that resource's (404 if none)."""
    if resource is None:
        return GLOBAL_SCOPE
    store.require(resource, object_id)
    return f"{resource}/{object_id}"


def state_key_names(store: Store, scope: str) -> list[str]:
    return list(store.state_keys.get(scope, {}))


def state_value(store: Store, scope: str, key: str) -> object:
    keys = store.state_keys.get(scope, {})
    if key not in keys:
        raise NotFound(f"State key {key!r} not found.")
    return keys[key]


def put_state_value(store: Store, scope: str, key: str, value: object) -> bool:
    """Keep `value` under `key`; True if the key is new."""
    keys = store.state_keys.setdefault(scope, {})
    created = key not in keys
    keys[key] = value
    store.changed()
    return created


def delete_state_value(store: Store, scope: str, key: str) -> None:
    keys = store.state_keys.get(scope, {})
    if key not in keys:
        raise NotFound(f"State key {key!r} not found.")
    del keys[key]
    store.changed()


def delete_state_scope(store: Store, scope: str) -> None:
    store.state_keys.pop(scope, None)
    store.changed()

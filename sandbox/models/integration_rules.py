"""Rules for integrations, and which connections an integration uses."""

from sandbox.exceptions import InvalidField
from sandbox.models.documents import check_name
from sandbox.models.store import Store

MAX_DESCRIPTION = 5120


def integration_validate(*, store: Store, doc: dict) -> None:
    """Raise an upstream-shaped 422 unless `doc` is a valid integration body."""
    check_name(doc)
    description = doc.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise InvalidField("description must be a string.", field="description")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidField(
                f"description must be at most {MAX_DESCRIPTION} characters.", field="description"
            )
    settings = doc.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise InvalidField("settings must be an object.", field="settings")
    for flag in ("sandbox", "updateInProgress"):
        if flag in doc and not isinstance(doc[flag], bool):
            raise InvalidField(f"{flag} must be a boolean.", field=flag)
    registered = doc.get("_registeredConnectionIds")
    if registered is not None and (
        not isinstance(registered, list) or not all(isinstance(i, str) for i in registered)
    ):
        raise InvalidField(
            "_registeredConnectionIds must be an array of ids.", field="_registeredConnectionIds"
        )


def integration_members(store: Store, collection: str, integration_id: str) -> list[dict]:
    """The flows, exports or imports whose `_integrationId` is this integration."""
    return store.found(collection, "integration", [integration_id])


def integration_connection_ids(store: Store, integration_id: str) -> list[str]:
    """Connections the integration uses: registered, set on it, or used by its steps."""
    integration = store.require("integrations", integration_id)
    ids: dict[str, None] = dict.fromkeys(integration.get("_registeredConnectionIds") or [])
    for collection in ("exports", "imports"):
        for doc in integration_members(store, collection, integration_id):
            if doc.get("_connectionId"):
                ids[doc["_connectionId"]] = None
    for connection in store.found("connections", "integration", [integration_id]):
        ids[connection["_id"]] = None
    return [i for i in ids if store.get("connections", i) is not None]

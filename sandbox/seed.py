"""The demo template integration, "Shop -> ERP order sync", with fixed ids, and its evolution.

The template integration is one integration that evolves over time, as a real one does: the
service publishes each version with a snapshot of what the integration held then, and matches
a tenant's copies to it by `_sourceId` (the template's ids, the same in every version).

Version 1.0.0 is what a seed creates. `template_version_set(store, "1.1.0")` evolves it in
place into 1.1.0: one new flow (shop refunds to ERP credit memos, with its export and import)
and one changed field (the orders export's `http.relativeURI` also asks for "processing"
orders), and the integration's `version`; `"1.0.0"` takes it back. Both use the same two
connections, which point at the demo apps (/_demo/shop and /_demo/erp) with their valid keys.

Seeding inserts each object only when its id is absent: seeding twice does nothing the second
time (and seeding again after a deletion restores what is missing). The service's demo template
data refers to these ids, so they never change.
"""

import copy

from sandbox.demo_apps import DEMO_API_KEYS
from sandbox.models.store import Store

DEMO_INTEGRATION_ID = "5eed00000000000000000a01"
DEMO_SHOP_CONNECTION_ID = "5eed00000000000000000c01"
DEMO_ERP_CONNECTION_ID = "5eed00000000000000000c02"
DEMO_ORDERS_EXPORT_ID = "5eed00000000000000000e01"
DEMO_CUSTOMERS_EXPORT_ID = "5eed00000000000000000e02"
DEMO_STOCK_EXPORT_ID = "5eed00000000000000000e03"
DEMO_ORDERS_IMPORT_ID = "5eed00000000000000000d01"
DEMO_CUSTOMERS_IMPORT_ID = "5eed00000000000000000d02"
DEMO_STOCK_IMPORT_ID = "5eed00000000000000000d03"
DEMO_ORDERS_FLOW_ID = "5eed00000000000000000f01"
DEMO_CUSTOMERS_FLOW_ID = "5eed00000000000000000f02"
DEMO_STOCK_FLOW_ID = "5eed00000000000000000f03"
# Added by version 1.1.0.
DEMO_REFUNDS_EXPORT_ID = "5eed00000000000000000e04"
DEMO_CREDIT_MEMOS_IMPORT_ID = "5eed00000000000000000d04"
DEMO_REFUNDS_FLOW_ID = "5eed00000000000000000f04"

DEMO_VERSIONS = ("1.0.0", "1.1.0")
DEMO_BASE_VERSION = "1.0.0"
# The one field of 1.0.0 that 1.1.0 changes: the orders export's http.relativeURI.
DEMO_ORDERS_RELATIVE_URI = {"1.0.0": "/orders", "1.1.0": "/orders?status=paid,processing"}
DEMO_DESCRIPTIONS = {
    "1.0.0": "Template: syncs paid shop orders and customers into the ERP, "
    "and ERP stock levels back to the shop. Cloned once per tenant.",
    "1.1.0": "Template: syncs paid and processing shop orders, customers and refunds (as credit "
    "memos) into the ERP, and ERP stock levels back to the shop. Cloned once per tenant.",
}

DEMO_INTEGRATION_NAME = "Shop -> ERP order sync"
DEMO_SETTINGS = {
    "orderSync": {"enabled": True, "orderStatus": "paid", "startDate": None},
    "customerSync": {"enabled": True},
    "stockSync": {"enabled": False},
    "erpSubsidiary": "default",
    "pollIntervalMinutes": 15,
}


def seed_ids() -> dict[str, object]:
    """The top-level keys are version 1.0.0's ids; `versions` has each version's (the same
    integration and connections; 1.1.0 adds the refunds flow, export and import, last)."""
    first = {
        "integrationId": DEMO_INTEGRATION_ID,
        "connectionIds": {"shop": DEMO_SHOP_CONNECTION_ID, "erp": DEMO_ERP_CONNECTION_ID},
        "flowIds": [DEMO_ORDERS_FLOW_ID, DEMO_CUSTOMERS_FLOW_ID, DEMO_STOCK_FLOW_ID],
        "exportIds": [DEMO_ORDERS_EXPORT_ID, DEMO_CUSTOMERS_EXPORT_ID, DEMO_STOCK_EXPORT_ID],
        "importIds": [DEMO_ORDERS_IMPORT_ID, DEMO_CUSTOMERS_IMPORT_ID, DEMO_STOCK_IMPORT_ID],
    }
    second = copy.deepcopy(first)
    second["flowIds"].append(DEMO_REFUNDS_FLOW_ID)
    second["exportIds"].append(DEMO_REFUNDS_EXPORT_ID)
    second["importIds"].append(DEMO_CREDIT_MEMOS_IMPORT_ID)
    return {**first, "versions": {"1.0.0": copy.deepcopy(first), "1.1.0": second}}


def seed_demo(store: Store, *, demo_base_url: str) -> bool:
    """Insert the missing objects of the demo template (as version 1.0.0, if the integration
    is missing); True if anything was created. An evolved template keeps its version."""
    created = False
    for collection, object_id, fields in _connections(demo_base_url.rstrip("/")) + _version_100():
        if store.get(collection, object_id) is None:
            store.insert(collection, fields, object_id=object_id)
            created = True
    return created


def template_version(store: Store) -> str | None:
    """The version the demo template integration is at, None when it is not seeded."""
    integration = store.get("integrations", DEMO_INTEGRATION_ID)
    return None if integration is None else integration.get("version")


def template_version_set(store: Store, version: str, *, demo_base_url: str) -> bool:
    """Evolve the demo template integration in place into `version` (seeding it first if it
    is missing); True if anything changed. Raises ValueError for an unknown version."""
    if version not in DEMO_VERSIONS:
        raise ValueError(f"unknown demo template version {version!r}")
    changed = seed_demo(store, demo_base_url=demo_base_url)
    added = {object_id: (collection, fields) for collection, object_id, fields in _added_in_110()}
    for object_id, (collection, fields) in added.items():
        present = store.get(collection, object_id) is not None
        if version == "1.1.0" and not present:
            store.insert(collection, fields, object_id=object_id)
            changed = True
        elif version == "1.0.0" and present:
            store.delete(collection, object_id)
            changed = True
    changed |= _set_fields(
        store,
        "exports",
        DEMO_ORDERS_EXPORT_ID,
        lambda doc: doc["http"].update(relativeURI=DEMO_ORDERS_RELATIVE_URI[version]),
    )
    changed |= _set_fields(
        store,
        "integrations",
        DEMO_INTEGRATION_ID,
        lambda doc: doc.update(version=version, description=DEMO_DESCRIPTIONS[version]),
    )
    return changed


def _set_fields(store: Store, collection: str, object_id: str, change) -> bool:
    """Apply `change` to a copy of the document; replace it (a new lastModified) only if it
    changed anything, so that asking twice changes nothing the second time."""
    current = store.require(collection, object_id)
    wanted = copy.deepcopy(current)
    change(wanted)
    if wanted == current:
        return False
    store.replace(collection, object_id, {k: v for k, v in wanted.items() if k != "_id"})
    return True


def _integration(version: str) -> tuple[str, str, dict]:
    return (
        "integrations",
        DEMO_INTEGRATION_ID,
        {
            "name": DEMO_INTEGRATION_NAME,
            "description": DEMO_DESCRIPTIONS[version],
            "settings": copy.deepcopy(DEMO_SETTINGS),
            "version": version,
            "_registeredConnectionIds": [DEMO_SHOP_CONNECTION_ID, DEMO_ERP_CONNECTION_ID],
        },
    )


def _connections(demo: str) -> list[tuple[str, str, dict]]:
    integration = DEMO_INTEGRATION_ID
    return [
        (
            "connections",
            DEMO_SHOP_CONNECTION_ID,
            {
                "type": "http",
                "name": "Demo Shop",
                "_integrationId": integration,
                "http": {
                    "baseURI": f"{demo}/shop",
                    "mediaType": "json",
                    "ping": {"relativeURI": "/ping", "method": "GET"},
                    "auth": {
                        "type": "token",
                        "token": {
                            "token": DEMO_API_KEYS["shop"],
                            "location": "header",
                            "headerName": "Authorization",
                            "scheme": "Bearer",
                        },
                    },
                },
            },
        ),
        (
            "connections",
            DEMO_ERP_CONNECTION_ID,
            erp_connection_fields(demo, name="Demo ERP", integration_id=integration),
        ),
    ]


def erp_connection_fields(demo: str, *, name: str, integration_id: str) -> dict:
    """A connection to the demo ERP with its valid key in the query (both templates have one)."""
    return {
        "type": "http",
        "name": name,
        "_integrationId": integration_id,
        "http": {
            "baseURI": f"{demo}/erp",
            "mediaType": "json",
            "ping": {"relativeURI": "/ping", "method": "GET"},
            "auth": {
                "type": "token",
                "token": {"token": DEMO_API_KEYS["erp"], "location": "url", "paramName": "api_key"},
            },
        },
    }


def _version_100() -> list[tuple[str, str, dict]]:
    """The integration, and the three flows with their exports and imports, as in 1.0.0."""
    integration = DEMO_INTEGRATION_ID
    shop, erp = DEMO_SHOP_CONNECTION_ID, DEMO_ERP_CONNECTION_ID
    return [
        _integration("1.0.0"),
        _export(
            DEMO_ORDERS_EXPORT_ID,
            "Get paid shop orders",
            shop,
            DEMO_ORDERS_RELATIVE_URI["1.0.0"],
            integration,
        ),
        _export(DEMO_CUSTOMERS_EXPORT_ID, "Get shop customers", shop, "/customers", integration),
        _export(DEMO_STOCK_EXPORT_ID, "Get ERP stock levels", erp, "/items", integration),
        _import(
            DEMO_ORDERS_IMPORT_ID,
            "Create ERP sales orders",
            erp,
            "/salesorders",
            "POST",
            integration,
        ),
        _import(
            DEMO_CUSTOMERS_IMPORT_ID, "Upsert ERP customers", erp, "/customers", "POST", integration
        ),
        _import(
            DEMO_STOCK_IMPORT_ID, "Update shop inventory", shop, "/inventory", "POST", integration
        ),
        _flow(
            DEMO_ORDERS_FLOW_ID,
            "Shop orders to ERP sales orders",
            DEMO_ORDERS_EXPORT_ID,
            DEMO_ORDERS_IMPORT_ID,
            "? */15 * ? * *",
            integration,
        ),
        _flow(
            DEMO_CUSTOMERS_FLOW_ID,
            "Shop customers to ERP customers",
            DEMO_CUSTOMERS_EXPORT_ID,
            DEMO_CUSTOMERS_IMPORT_ID,
            "? 0 * ? * *",
            integration,
        ),
        _flow(
            DEMO_STOCK_FLOW_ID,
            "ERP stock levels to shop inventory",
            DEMO_STOCK_EXPORT_ID,
            DEMO_STOCK_IMPORT_ID,
            None,
            integration,
        ),
    ]


def _added_in_110() -> list[tuple[str, str, dict]]:
    """The refunds flow, its export and its import: what 1.1.0 adds to the integration."""
    integration = DEMO_INTEGRATION_ID
    return [
        _export(
            DEMO_REFUNDS_EXPORT_ID,
            "Get shop refunds",
            DEMO_SHOP_CONNECTION_ID,
            "/refunds",
            integration,
        ),
        _import(
            DEMO_CREDIT_MEMOS_IMPORT_ID,
            "Create ERP credit memos",
            DEMO_ERP_CONNECTION_ID,
            "/creditmemos",
            "POST",
            integration,
        ),
        _flow(
            DEMO_REFUNDS_FLOW_ID,
            "Shop refunds to ERP credit memos",
            DEMO_REFUNDS_EXPORT_ID,
            DEMO_CREDIT_MEMOS_IMPORT_ID,
            "? 30 * ? * *",
            integration,
        ),
    ]


def _export(
    object_id: str, name: str, connection_id: str, path: str, integration_id: str
) -> tuple[str, str, dict]:
    return (
        "exports",
        object_id,
        {
            "name": name,
            "_connectionId": connection_id,
            "_integrationId": integration_id,
            "adaptorType": "HTTPExport",
            "apiIdentifier": "e" + object_id[-7:],
            "pageSize": 20,
            "http": {"relativeURI": path, "method": "GET", "successMediaType": "json"},
        },
    )


def _import(
    object_id: str, name: str, connection_id: str, path: str, method: str, integration_id: str
) -> tuple[str, str, dict]:
    return (
        "imports",
        object_id,
        {
            "name": name,
            "_connectionId": connection_id,
            "_integrationId": integration_id,
            "adaptorType": "HTTPImport",
            "apiIdentifier": "i" + object_id[-10:],
            "http": {"relativeURI": [path], "method": [method], "requestMediaType": "json"},
            "mapping": {"fields": [{"extract": "id", "generate": "externalId"}], "lists": []},
        },
    )


def _flow(
    object_id: str,
    name: str,
    export_id: str,
    import_id: str,
    schedule: str | None,
    integration_id: str,
) -> tuple[str, str, dict]:
    fields = {
        "name": name,
        "_integrationId": integration_id,
        "disabled": True,
        "timezone": "Europe/Berlin",
        "pageGenerators": [{"_exportId": export_id}],
        "pageProcessors": [{"type": "import", "_importId": import_id}],
        "settings": {},
    }
    if schedule:
        fields["schedule"] = schedule
    return ("flows", object_id, fields)

"""The demo template integration, "Shop -> ERP order sync", with fixed ids, in two versions.

Version 1.0.0 is always seeded; version 1.1.0 is a second template integration beside it, seeded
when asked for (the template-versions work rolls tenants from one to the other). 1.1.0 is a
copy of 1.0.0's flows, exports and imports under new ids, plus one new flow (shop refunds to
ERP credit memos) and one changed field (the orders export's `http.relativeURI` also asks for
"processing" orders). Both versions use the same two connections, which point at the demo apps
(/_demo/shop and /_demo/erp) with their valid keys, so one `connectionMap` serves both.

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

# Version 1.1.0: the same three flows under new ids (…1x where 1.0.0 has …0x), and refunds.
DEMO_V110_INTEGRATION_ID = "5eed00000000000000000a11"
DEMO_V110_ORDERS_EXPORT_ID = "5eed00000000000000000e11"
DEMO_V110_CUSTOMERS_EXPORT_ID = "5eed00000000000000000e12"
DEMO_V110_STOCK_EXPORT_ID = "5eed00000000000000000e13"
DEMO_V110_REFUNDS_EXPORT_ID = "5eed00000000000000000e14"
DEMO_V110_ORDERS_IMPORT_ID = "5eed00000000000000000d11"
DEMO_V110_CUSTOMERS_IMPORT_ID = "5eed00000000000000000d12"
DEMO_V110_STOCK_IMPORT_ID = "5eed00000000000000000d13"
DEMO_V110_CREDIT_MEMOS_IMPORT_ID = "5eed00000000000000000d14"
DEMO_V110_ORDERS_FLOW_ID = "5eed00000000000000000f11"
DEMO_V110_CUSTOMERS_FLOW_ID = "5eed00000000000000000f12"
DEMO_V110_STOCK_FLOW_ID = "5eed00000000000000000f13"
DEMO_V110_REFUNDS_FLOW_ID = "5eed00000000000000000f14"

DEMO_VERSIONS = ("1.0.0", "1.1.0")
# The first version owns the connections the others share: it is seeded whatever is asked for.
DEMO_BASE_VERSION = "1.0.0"
# The one export field 1.1.0 changes: the orders export's http.relativeURI.
DEMO_ORDERS_RELATIVE_URI = {"1.0.0": "/orders", "1.1.0": "/orders?status=paid,processing"}

DEMO_INTEGRATION_NAME = "Shop -> ERP order sync"
DEMO_SETTINGS = {
    "orderSync": {"enabled": True, "orderStatus": "paid", "startDate": None},
    "customerSync": {"enabled": True},
    "stockSync": {"enabled": False},
    "erpSubsidiary": "default",
    "pollIntervalMinutes": 15,
}


def seed_ids() -> dict[str, object]:
    """The top-level keys are version 1.0.0's; `versions` has every version's ids, seeded or
    not (flows, exports and imports in the same order in both; 1.1.0's refunds last)."""
    connection_ids = {"shop": DEMO_SHOP_CONNECTION_ID, "erp": DEMO_ERP_CONNECTION_ID}
    first = {
        "integrationId": DEMO_INTEGRATION_ID,
        "connectionIds": connection_ids,
        "flowIds": [DEMO_ORDERS_FLOW_ID, DEMO_CUSTOMERS_FLOW_ID, DEMO_STOCK_FLOW_ID],
        "exportIds": [DEMO_ORDERS_EXPORT_ID, DEMO_CUSTOMERS_EXPORT_ID, DEMO_STOCK_EXPORT_ID],
        "importIds": [DEMO_ORDERS_IMPORT_ID, DEMO_CUSTOMERS_IMPORT_ID, DEMO_STOCK_IMPORT_ID],
    }
    second = {
        "integrationId": DEMO_V110_INTEGRATION_ID,
        "connectionIds": dict(connection_ids),
        "flowIds": [
            DEMO_V110_ORDERS_FLOW_ID,
            DEMO_V110_CUSTOMERS_FLOW_ID,
            DEMO_V110_STOCK_FLOW_ID,
            DEMO_V110_REFUNDS_FLOW_ID,
        ],
        "exportIds": [
            DEMO_V110_ORDERS_EXPORT_ID,
            DEMO_V110_CUSTOMERS_EXPORT_ID,
            DEMO_V110_STOCK_EXPORT_ID,
            DEMO_V110_REFUNDS_EXPORT_ID,
        ],
        "importIds": [
            DEMO_V110_ORDERS_IMPORT_ID,
            DEMO_V110_CUSTOMERS_IMPORT_ID,
            DEMO_V110_STOCK_IMPORT_ID,
            DEMO_V110_CREDIT_MEMOS_IMPORT_ID,
        ],
    }
    return {**first, "versions": {"1.0.0": copy.deepcopy(first), "1.1.0": second}}


def seed_versions(asked: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The versions a seed creates: those asked for, and always the first one, in order.
    Raises ValueError for an unknown version."""
    unknown = [version for version in asked if version not in DEMO_VERSIONS]
    if unknown:
        raise ValueError(f"unknown demo template version {unknown[0]!r}")
    return [v for v in DEMO_VERSIONS if v == DEMO_BASE_VERSION or v in asked]


def seed_demo(
    store: Store, *, demo_base_url: str, versions: tuple[str, ...] | list[str] = ()
) -> bool:
    """Insert the missing objects of the demo template's base version and of `versions`;
    True if anything was created."""
    created = False
    demo = demo_base_url.rstrip("/")
    objects = _connections(demo)
    for version in seed_versions(versions):
        objects += _VERSION_OBJECTS[version]()
    for collection, object_id, fields in objects:
        if store.get(collection, object_id) is None:
            store.insert(collection, fields, object_id=object_id)
            created = True
    return created


def _integration(object_id: str, version: str, description: str) -> tuple[str, str, dict]:
    return (
        "integrations",
        object_id,
        {
            "name": DEMO_INTEGRATION_NAME,
            "description": description,
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
            {
                "type": "http",
                "name": "Demo ERP",
                "_integrationId": integration,
                "http": {
                    "baseURI": f"{demo}/erp",
                    "mediaType": "json",
                    "ping": {"relativeURI": "/ping", "method": "GET"},
                    "auth": {
                        "type": "token",
                        "token": {
                            "token": DEMO_API_KEYS["erp"],
                            "location": "url",
                            "paramName": "api_key",
                        },
                    },
                },
            },
        ),
    ]


def _version_100() -> list[tuple[str, str, dict]]:
    description = (
        "Template: syncs paid shop orders and customers into the ERP, "
        "and ERP stock levels back to the shop. Cloned once per tenant."
    )
    ids = seed_ids()["versions"]["1.0.0"]
    return [
        _integration(DEMO_INTEGRATION_ID, "1.0.0", description),
        *_common_steps("1.0.0", ids),
    ]


def _version_110() -> list[tuple[str, str, dict]]:
    description = (
        "Template: syncs paid and processing shop orders, customers and refunds (as credit "
        "memos) into the ERP, and ERP stock levels back to the shop. Cloned once per tenant."
    )
    ids = seed_ids()["versions"]["1.1.0"]
    integration = DEMO_V110_INTEGRATION_ID
    return [
        _integration(integration, "1.1.0", description),
        *_common_steps("1.1.0", ids),
        _export(
            DEMO_V110_REFUNDS_EXPORT_ID,
            "Get shop refunds",
            DEMO_SHOP_CONNECTION_ID,
            "/refunds",
            integration,
        ),
        _import(
            DEMO_V110_CREDIT_MEMOS_IMPORT_ID,
            "Create ERP credit memos",
            DEMO_ERP_CONNECTION_ID,
            "/creditmemos",
            "POST",
            integration,
        ),
        _flow(
            DEMO_V110_REFUNDS_FLOW_ID,
            "Shop refunds to ERP credit memos",
            DEMO_V110_REFUNDS_EXPORT_ID,
            DEMO_V110_CREDIT_MEMOS_IMPORT_ID,
            "? 30 * ? * *",
            integration,
        ),
    ]


def _common_steps(version: str, ids: dict) -> list[tuple[str, str, dict]]:
    """The three flows (with their exports and imports) every version has; only the orders
    export's relativeURI differs between versions."""
    integration = ids["integrationId"]
    orders_export, customers_export, stock_export = ids["exportIds"][:3]
    orders_import, customers_import, stock_import = ids["importIds"][:3]
    orders_flow, customers_flow, stock_flow = ids["flowIds"][:3]
    shop, erp = DEMO_SHOP_CONNECTION_ID, DEMO_ERP_CONNECTION_ID
    return [
        _export(
            orders_export,
            "Get paid shop orders",
            shop,
            DEMO_ORDERS_RELATIVE_URI[version],
            integration,
        ),
        _export(customers_export, "Get shop customers", shop, "/customers", integration),
        _export(stock_export, "Get ERP stock levels", erp, "/items", integration),
        _import(orders_import, "Create ERP sales orders", erp, "/salesorders", "POST", integration),
        _import(customers_import, "Upsert ERP customers", erp, "/customers", "POST", integration),
        _import(stock_import, "Update shop inventory", shop, "/inventory", "POST", integration),
        _flow(
            orders_flow,
            "Shop orders to ERP sales orders",
            orders_export,
            orders_import,
            "? */15 * ? * *",
            integration,
        ),
        _flow(
            customers_flow,
            "Shop customers to ERP customers",
            customers_export,
            customers_import,
            "? 0 * ? * *",
            integration,
        ),
        _flow(
            stock_flow,
            "ERP stock levels to shop inventory",
            stock_export,
            stock_import,
            None,
            integration,
        ),
    ]


_VERSION_OBJECTS = {"1.0.0": _version_100, "1.1.0": _version_110}


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

"""The demo template integration, "Shop -> ERP order sync", with fixed ids.

Its two connections point at the demo apps (/_demo/shop and /_demo/erp) with their valid keys.
Seeding inserts each object only when its id is absent: seeding twice does nothing the second
time (and seeding again after a deletion restores what is missing). The service's demo template
data refers to these ids, so they never change.
"""

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

DEMO_INTEGRATION_NAME = "Shop -> ERP order sync"
DEMO_SETTINGS = {
    "orderSync": {"enabled": True, "orderStatus": "paid", "startDate": None},
    "customerSync": {"enabled": True},
    "stockSync": {"enabled": False},
    "erpSubsidiary": "default",
    "pollIntervalMinutes": 15,
}


def seed_ids() -> dict[str, object]:
    return {
        "integrationId": DEMO_INTEGRATION_ID,
        "connectionIds": {"shop": DEMO_SHOP_CONNECTION_ID, "erp": DEMO_ERP_CONNECTION_ID},
        "flowIds": [DEMO_ORDERS_FLOW_ID, DEMO_CUSTOMERS_FLOW_ID, DEMO_STOCK_FLOW_ID],
        "exportIds": [DEMO_ORDERS_EXPORT_ID, DEMO_CUSTOMERS_EXPORT_ID, DEMO_STOCK_EXPORT_ID],
        "importIds": [DEMO_ORDERS_IMPORT_ID, DEMO_CUSTOMERS_IMPORT_ID, DEMO_STOCK_IMPORT_ID],
    }


def seed_demo(store: Store, *, demo_base_url: str) -> bool:
    """Insert the demo template's missing objects; True if anything was created."""
    created = False
    for collection, object_id, fields in _demo_objects(demo_base_url.rstrip("/")):
        if store.get(collection, object_id) is None:
            store.insert(collection, fields, object_id=object_id)
            created = True
    return created


def _demo_objects(demo: str) -> list[tuple[str, str, dict]]:
    integration = DEMO_INTEGRATION_ID
    return [
        (
            "integrations",
            integration,
            {
                "name": DEMO_INTEGRATION_NAME,
                "description": "Template: syncs paid shop orders and customers into the ERP, "
                "and ERP stock levels back to the shop. Cloned once per tenant.",
                "settings": DEMO_SETTINGS,
                "version": "1.0.0",
                "_registeredConnectionIds": [DEMO_SHOP_CONNECTION_ID, DEMO_ERP_CONNECTION_ID],
            },
        ),
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
        _export(DEMO_ORDERS_EXPORT_ID, "Get paid shop orders", DEMO_SHOP_CONNECTION_ID, "/orders"),
        _export(
            DEMO_CUSTOMERS_EXPORT_ID, "Get shop customers", DEMO_SHOP_CONNECTION_ID, "/customers"
        ),
        _export(DEMO_STOCK_EXPORT_ID, "Get ERP stock levels", DEMO_ERP_CONNECTION_ID, "/items"),
        _import(
            DEMO_ORDERS_IMPORT_ID,
            "Create ERP sales orders",
            DEMO_ERP_CONNECTION_ID,
            "/salesorders",
            "POST",
        ),
        _import(
            DEMO_CUSTOMERS_IMPORT_ID,
            "Upsert ERP customers",
            DEMO_ERP_CONNECTION_ID,
            "/customers",
            "POST",
        ),
        _import(
            DEMO_STOCK_IMPORT_ID,
            "Update shop inventory",
            DEMO_SHOP_CONNECTION_ID,
            "/inventory",
            "POST",
        ),
        _flow(
            DEMO_ORDERS_FLOW_ID,
            "Shop orders to ERP sales orders",
            DEMO_ORDERS_EXPORT_ID,
            DEMO_ORDERS_IMPORT_ID,
            "? */15 * ? * *",
        ),
        _flow(
            DEMO_CUSTOMERS_FLOW_ID,
            "Shop customers to ERP customers",
            DEMO_CUSTOMERS_EXPORT_ID,
            DEMO_CUSTOMERS_IMPORT_ID,
            "? 0 * ? * *",
        ),
        _flow(
            DEMO_STOCK_FLOW_ID,
            "ERP stock levels to shop inventory",
            DEMO_STOCK_EXPORT_ID,
            DEMO_STOCK_IMPORT_ID,
            None,
        ),
    ]


def _export(object_id: str, name: str, connection_id: str, path: str) -> tuple[str, str, dict]:
    return (
        "exports",
        object_id,
        {
            "name": name,
            "_connectionId": connection_id,
            "_integrationId": DEMO_INTEGRATION_ID,
            "adaptorType": "HTTPExport",
            "apiIdentifier": "e" + object_id[-7:],
            "pageSize": 20,
            "http": {"relativeURI": path, "method": "GET", "successMediaType": "json"},
        },
    )


def _import(
    object_id: str, name: str, connection_id: str, path: str, method: str
) -> tuple[str, str, dict]:
    return (
        "imports",
        object_id,
        {
            "name": name,
            "_connectionId": connection_id,
            "_integrationId": DEMO_INTEGRATION_ID,
            "adaptorType": "HTTPImport",
            "apiIdentifier": "i" + object_id[-10:],
            "http": {"relativeURI": [path], "method": [method], "requestMediaType": "json"},
            "mapping": {"fields": [{"extract": "id", "generate": "externalId"}], "lists": []},
        },
    )


def _flow(
    object_id: str, name: str, export_id: str, import_id: str, schedule: str | None
) -> tuple[str, str, dict]:
    fields = {
        "name": name,
        "_integrationId": DEMO_INTEGRATION_ID,
        "disabled": True,
        "timezone": "Europe/Berlin",
        "pageGenerators": [{"_exportId": export_id}],
        "pageProcessors": [{"type": "import", "_importId": import_id}],
        "settings": {},
    }
    if schedule:
        fields["schedule"] = schedule
    return ("flows", object_id, fields)

"""The second demo template integration, "CRM -> ERP contact sync", with fixed ids.

One flow: the demo CRM's contacts (an OAuth 2 app, sandbox/demo_oauth.py) to ERP customers.
Its CRM connection is an http connection of auth type `oauth` without tokens: a template's
connections never run, each tenant's copy gets the tokens its user granted (the service's
`crm-to-erp` template, tenants/template_files/, refers to these ids). Seeded apart from the
shop template (`POST /_sandbox/seed/crm`, and `--seed` at start-up), so that the first
template's account stays as its tests know it.
"""

from sandbox.demo_oauth import DEMO_CRM_CLIENT_ID
from sandbox.models.store import Store
from sandbox.seed import _export, _flow, _import, erp_connection_fields

CRM_INTEGRATION_ID = "5eed00000000000000000a02"
CRM_CONNECTION_ID = "5eed00000000000000000c03"
CRM_ERP_CONNECTION_ID = "5eed00000000000000000c04"
CRM_CONTACTS_EXPORT_ID = "5eed00000000000000000e05"
CRM_CUSTOMERS_IMPORT_ID = "5eed00000000000000000d05"
CRM_CONTACTS_FLOW_ID = "5eed00000000000000000f05"


def crm_seed_ids() -> dict[str, object]:
    return {
        "integrationId": CRM_INTEGRATION_ID,
        "connectionIds": {"crm": CRM_CONNECTION_ID, "erp": CRM_ERP_CONNECTION_ID},
        "flowIds": [CRM_CONTACTS_FLOW_ID],
        "exportIds": [CRM_CONTACTS_EXPORT_ID],
        "importIds": [CRM_CUSTOMERS_IMPORT_ID],
    }


def seed_crm_demo(store: Store, *, demo_base_url: str) -> bool:
    """Insert the missing objects of the CRM template; True if anything was created."""
    created = False
    for collection, object_id, fields in _objects(demo_base_url.rstrip("/")):
        if store.get(collection, object_id) is None:
            store.insert(collection, fields, object_id=object_id)
            created = True
    return created


def _objects(demo: str) -> list[tuple[str, str, dict]]:
    integration = CRM_INTEGRATION_ID
    return [
        (
            "integrations",
            integration,
            {
                "name": "CRM -> ERP contact sync",
                "description": "Template: syncs CRM contacts into ERP customers.",
                "settings": {"contactSync": {"enabled": True}},
                "version": "1.0.0",
                "_registeredConnectionIds": [CRM_CONNECTION_ID, CRM_ERP_CONNECTION_ID],
            },
        ),
        (
            "connections",
            CRM_CONNECTION_ID,
            {
                "type": "http",
                "name": "Demo CRM",
                "_integrationId": integration,
                "http": {
                    "baseURI": f"{demo}/crm",
                    "mediaType": "json",
                    "ping": {"relativeURI": "/ping", "method": "GET"},
                    "auth": {
                        "type": "oauth",
                        "oauth": {
                            "tokenURI": f"{demo}/crm/oauth/token",
                            "clientId": DEMO_CRM_CLIENT_ID,
                            "scope": ["contacts.read"],
                        },
                        "token": {"location": "header", "headerName": "Authorization"},
                    },
                },
            },
        ),
        (
            "connections",
            CRM_ERP_CONNECTION_ID,
            erp_connection_fields(demo, name="Demo ERP (CRM template)", integration_id=integration),
        ),
        _export(
            CRM_CONTACTS_EXPORT_ID, "Get CRM contacts", CRM_CONNECTION_ID, "/contacts", integration
        ),
        _import(
            CRM_CUSTOMERS_IMPORT_ID,
            "Upsert ERP customers from CRM",
            CRM_ERP_CONNECTION_ID,
            "/customers",
            "POST",
            integration,
        ),
        _flow(
            CRM_CONTACTS_FLOW_ID,
            "CRM contacts to ERP customers",
            CRM_CONTACTS_EXPORT_ID,
            CRM_CUSTOMERS_IMPORT_ID,
            "? 0 * ? * *",
            integration,
        ),
    ]

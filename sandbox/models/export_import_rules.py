"""Rules for exports and imports: references, case-sensitive adaptor types, secrets."""

from collections.abc import Mapping

from sandbox import assumptions
from sandbox.exceptions import InvalidField, InvalidRef
from sandbox.models.documents import check_name, masked
from sandbox.models.object_ids import new_api_identifier
from sandbox.models.store import Store

ADAPTOR_TYPES = {
    "exports": (
        "HTTPExport",
        "RESTExport",
        "FTPExport",
        "NetSuiteExport",
        "SalesforceExport",
        "S3Export",
        "RDBMSExport",
        "MongodbExport",
        "DynamodbExport",
        "JDBCExport",
        "AS2Export",
        "FileSystemExport",
        "WrapperExport",
        "WebhookExport",
        "SimpleExport",
    ),
    "imports": (
        "HTTPImport",
        "RESTImport",
        "FTPImport",
        "NetSuiteImport",
        "NetSuiteDistributedImport",
        "SalesforceImport",
        "S3Import",
        "RDBMSImport",
        "MongodbImport",
        "DynamodbImport",
        "JDBCImport",
        "AS2Import",
        "FileSystemImport",
        "WrapperImport",
        "AiAgentImport",
    ),
}
SECRET_PATHS = {
    "exports": ("webhook.key", "webhook.token", "distributed.bearerToken"),
    "imports": ("distributed.bearerToken",),
}
API_IDENTIFIER_SHAPE = {"exports": ("e", 8), "imports": ("i", 11)}


def resource_validate(*, store: Store, collection: str, doc: dict) -> None:
    """Raise an upstream-shaped 422 unless `doc` is a valid export or import body."""
    check_name(doc)
    for field, target in (("_connectionId", "connections"), ("_integrationId", "integrations")):
        value = doc.get(field)
        if value is not None and (not isinstance(value, str) or store.get(target, value) is None):
            message = (
                assumptions.INVALID_REF_MESSAGE
                if target == "integrations"
                else "Connection not found for the given id"
            )
            raise InvalidRef(message, field=field)
    adaptor = doc.get("adaptorType")
    if adaptor is not None and adaptor not in ADAPTOR_TYPES[collection]:
        raise InvalidField(f"{adaptor!r} is not a valid adaptorType.", field="adaptorType")
    page_size = doc.get("pageSize")
    if page_size is not None and (
        not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1
    ):
        raise InvalidField("pageSize must be a positive integer.", field="pageSize")


def resource_prepare(collection: str, fields: dict, current: dict | None) -> dict:
    """Keep the server-generated apiIdentifier across updates; make one on create."""
    if current is not None and current.get("apiIdentifier"):
        return {**fields, "apiIdentifier": current["apiIdentifier"]}
    return {**fields, "apiIdentifier": new_resource_api_identifier(collection)}


def resources_filtered(store: Store, collection: str, query: Mapping[str, str]) -> list[dict]:
    """The exports or imports a list asks for: the filters honoured are in assumptions.py."""
    docs = store.values(collection)
    for name in assumptions.RESOURCE_LIST_FILTERS:
        value = query.get(name)
        if value:
            docs = [doc for doc in docs if doc.get(name) == value]
    return docs


def resource_render(collection: str, doc: dict) -> dict:
    return masked(doc, SECRET_PATHS[collection])


def new_resource_api_identifier(collection: str) -> str:
    prefix, length = API_IDENTIFIER_SHAPE[collection]
    return new_api_identifier(prefix, length)

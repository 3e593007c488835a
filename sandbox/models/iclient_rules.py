"""Rules for iClients (OAuth and token apps that connections point to with `_iClientId`)."""

from sandbox.exceptions import InvalidField, MissingRequiredField
from sandbox.models.documents import check_name, masked
from sandbox.models.store import Store

SECRET_PATHS = (
    "oauth2.clientSecret",
    "netsuite.consumerKey",
    "netsuite.consumerSecret",
    "amazonmws.secretKey",
    "ebay.certId",
    "salesforce.clientSecret",
)


def iclient_validate(*, store: Store, doc: dict) -> None:
    check_name(doc, required=False)
    provider = doc.get("provider")
    if provider is None or provider == "":
        raise MissingRequiredField("provider")
    if not isinstance(provider, str):
        raise InvalidField("provider must be a string.", field="provider")


def iclient_render(doc: dict) -> dict:
    return masked(doc, SECRET_PATHS)

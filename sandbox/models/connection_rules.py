"""Rules for connections: the types, their required fields and secrets, and how they render.

Secrets are stored in clear and masked in every response. Each type's sub-object is named after
the type: {"type": "http", "http": {...}}.
"""

import dataclasses

from sandbox import assumptions
from sandbox.exceptions import InvalidField, InvalidRef, MissingRequiredField
from sandbox.models.documents import MISSING, check_name, get_path, masked, require_object
from sandbox.models.store import Store

MEDIA_TYPES = ("json", "urlencoded", "xml", "form-data", "plaintext", "csv")
HTTP_AUTH_TYPES = (
    "custom",
    "basic",
    "token",
    "oauth",
    "wsse",
    "cookie",
    "jwt",
    "digest",
    "specific",
    "oauth1",
    "jwtbearer",
)


@dataclasses.dataclass(frozen=True)
class ConnectionType:
    required: tuple[str, ...] = ()
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    secrets: tuple[str, ...] = ()
    # Sub-objects that must be JSON objects, and lists that must be arrays, when present.
    objects: tuple[str, ...] = ()
    arrays: tuple[str, ...] = ()
    # For types the sandbox cannot reach: credentials a ping needs, per value of `authType`.
    ping_credentials: tuple[tuple[str, tuple[str, ...]], ...] = ()


CONNECTION_TYPES: dict[str, ConnectionType] = {
    "http": ConnectionType(
        required=("baseURI", "mediaType"),
        choices=(("mediaType", MEDIA_TYPES), ("auth.type", HTTP_AUTH_TYPES)),
        secrets=(
            "auth.basic.password",
            "auth.token.token",
            "auth.token.refreshToken",
            "auth.oauth.clientSecret",
            "encrypted",
            "clientCertificates.key",
            "clientCertificates.passphrase",
            "clientCertificates.pfx",
        ),
        objects=("auth", "auth.basic", "auth.token", "auth.oauth", "ping", "clientCertificates"),
        arrays=("headers",),
    ),
    "rest": ConnectionType(
        required=("baseURI", "mediaType", "authType"),
        choices=(("mediaType", MEDIA_TYPES), ("tokenLocation", ("header", "url"))),
        secrets=("bearerToken", "basicAuth.password", "refreshToken", "encrypted"),
        objects=("basicAuth",),
        arrays=("headers",),
    ),
    "netsuite": ConnectionType(
        required=("authType",),
        choices=(
            ("authType", ("basic", "token", "token-auto")),
            ("environment", ("production", "sandbox", "sandbox2.0", "beta")),
        ),
        secrets=("password", "tokenId", "tokenSecret"),
        ping_credentials=(
            ("basic", ("email", "password")),
            ("token", ("account", "tokenId", "tokenSecret")),
        ),
    ),
    "ftp": ConnectionType(
        required=("type", "hostURI", "username"),
        choices=(("type", ("ftp", "sftp", "ftps")),),
        secrets=("password", "authKey", "pgpEncryptKey", "pgpDecryptKey"),
    ),
    "salesforce": ConnectionType(
        required=("oauth2FlowType",),
        choices=(("oauth2FlowType", ("jwtBearerToken", "refreshToken")),),
        secrets=("bearerToken", "refreshToken"),
    ),
    "s3": ConnectionType(
        choices=(("authType", ("accesskey", "awsIam")),),
        secrets=("secretAccessKey",),
    ),
    "rdbms": ConnectionType(secrets=("password", "key", "passphrase")),
    "mongodb": ConnectionType(secrets=("password",)),
    "jdbc": ConnectionType(secrets=("password",)),
    "filesystem": ConnectionType(),
    "wrapper": ConnectionType(),
    "as2": ConnectionType(),
    "mcp": ConnectionType(),
    "dynamodb": ConnectionType(secrets=("secretAccessKey",)),
    "van": ConnectionType(),
}
SECRET_PATHS = {
    name: tuple(f"{name}.{path}" for path in rule.secrets)
    for name, rule in CONNECTION_TYPES.items()
}
AGENT_REQUIRED_MESSAGES = {
    "filesystem": "The file system connection requires Agent",
    "jdbc": "The JDBC connection requires Agent",
}


def connection_validate(*, store: Store, doc: dict) -> None:
    """Raise an upstream-shaped 422 unless `doc` is a valid connection body."""
    check_name(doc)
    kind = doc.get("type")
    if kind is None or kind == "":
        raise MissingRequiredField("type")
    if kind not in CONNECTION_TYPES:
        raise InvalidField(f"{kind!r} is not a valid connection type.", field="type")
    rule = CONNECTION_TYPES[kind]
    if doc.get(kind) is None:
        raise MissingRequiredField(kind)
    sub = require_object(doc[kind], f"{kind}")
    for path in rule.objects:
        if get_path(sub, path) not in (MISSING, None) and not isinstance(get_path(sub, path), dict):
            raise InvalidField(f"{kind}.{path} must be an object.", field=f"{kind}.{path}")
    for path in rule.arrays:
        if get_path(sub, path) not in (MISSING, None) and not isinstance(get_path(sub, path), list):
            raise InvalidField(f"{kind}.{path} must be an array.", field=f"{kind}.{path}")
    for path in rule.required:
        if get_path(sub, path) in (MISSING, None, ""):
            raise MissingRequiredField(f"{kind}.{path}")
    for path, allowed in rule.choices:
        value = get_path(sub, path)
        if value not in (MISSING, None) and value not in allowed:
            raise InvalidField(
                f"{kind}.{path} must be one of {', '.join(allowed)}.", field=f"{kind}.{path}"
            )
    if _needs_agent(kind, sub) and not doc.get("_agentId"):
        raise MissingRequiredField("_agentId", AGENT_REQUIRED_MESSAGES[kind])
    for flag in ("offline", "sandbox"):
        if flag in doc and not isinstance(doc[flag], bool):
            raise InvalidField(f"{flag} must be a boolean.", field=flag)
    integration_id = doc.get("_integrationId")
    if integration_id is not None and store.get("integrations", integration_id) is None:
        raise InvalidRef(assumptions.INVALID_REF_MESSAGE, field="_integrationId")


def connection_render(doc: dict) -> dict:
    """The connection as every response shows it: secrets masked, `queues` added."""
    result = masked(doc, SECRET_PATHS.get(doc.get("type"), ()))
    if result is doc:
        result = dict(doc)
    result["queues"] = [{"name": doc["_id"], "size": 0}]
    return result


def connection_credential_problem(doc: dict) -> str | None:
    """For types the sandbox cannot reach: why a ping fails, or None (the documented rule)."""
    kind = doc.get("type")
    rule = CONNECTION_TYPES.get(kind, ConnectionType())
    sub = doc.get(kind) or {}
    for path in rule.secrets:
        if get_path(sub, path) == assumptions.INVALID_SECRET_VALUE:
            return f"Authentication failed: {kind}.{path} was rejected."
    wanted = dict(rule.ping_credentials).get(sub.get("authType"), ())
    for path in wanted:
        if get_path(sub, path) in (MISSING, None, ""):
            return f"Authentication failed: {kind}.{path} is missing."
    return None


def _needs_agent(kind: str, sub: dict) -> bool:
    if kind == "filesystem":
        return True
    return kind == "jdbc" and sub.get("type") in ("agent", "activedirectory")

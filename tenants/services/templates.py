"""Integration templates: what a slot and a settings schema must look like, and loading a
template from a JSON or YAML document (`manage.py load_template`, the demo seed, the admin).

A slot describes one connection a tenant must supply:

    {"key": "shop", "label": "Shop", "connection_type": "http",
     "template_connection_id": "<the template integration's connection it replaces>",
     "connection": {<static part of the integrator.io connection body>},
     "fields": [{"name": "api_key", "label": "API key", "help_text": "...",
                 "kind": "text|password|url|select|number", "required": true,
                 "choices": [...], "pattern": "...", "min": 1, "max": 9, "max_length": 200,
                 "maps_to": "http.auth.token.token"}]}

Fields of kind `password` are secrets: they go to integrator.io and are never stored here.

A slot of `"kind": "oauth"` is connected by the end user's consent at the app instead of typed
fields (`fields` may then be empty); its `oauth` part says how (tenants/services/oauth_slots.py):

    "oauth": {"client": "<key in OAUTH_CLIENTS>", "authorize_url": "...", "token_url": "...",
              "scopes": ["contacts.read"], "pkce": "S256", "access": "Read your contacts",
              "maps": {"access_token": "http.auth.token.token", ...}}
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, NoReturn

import yaml
from django.db import transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from audit.services import audit_record
from core.accounts import integrator_account_default
from core.models import IntegratorAccount
from tenants.errors import TemplateInvalid, VersionConflict, VersionNotNewer
from tenants.models import IntegrationTemplate, TemplateVersion
from tenants.services.oauth_maps import DEFAULT_MAPS, oauth_client_moved, oauth_maps
from tenants.services.portal_access import PORTAL_DOCUMENT_SCHEMA, portal_validate
from tenants.services.settings import schema_defaults, settings_errors
from tenants.services.template_snapshots import snapshot_errors
from tenants.settings_mapping import settings_mapping_errors
from tenants.version_order import version_higher, version_key

FIELD_KINDS = ("text", "password", "url", "select", "number")
# integrator.io connection types (docs/integrator-io.md, Connections); `rest` is deprecated
# but still served.
CONNECTION_TYPES = (
    "http",
    "rest",
    "netsuite",
    "salesforce",
    "ftp",
    "s3",
    "wrapper",
    "rdbms",
    "mongodb",
    "as2",
    "dynamodb",
    "jdbc",
    "van",
)
_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_CHOICE = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["value", "label"],
            "additionalProperties": False,
            "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
        },
    ]
}
FIELD_SCHEMA = {
    "type": "object",
    "required": ["name", "label", "kind", "maps_to"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,63}$"},
        "label": {"type": "string", "minLength": 1, "maxLength": 200},
        "help_text": {"type": "string", "maxLength": 2000},
        "placeholder": {"type": "string", "maxLength": 200},
        "kind": {"enum": list(FIELD_KINDS)},
        "required": {"type": "boolean"},
        "choices": {"type": "array", "minItems": 1, "items": _CHOICE},
        "pattern": {"type": "string", "minLength": 1},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 10000},
        "maps_to": {
            "type": "string",
            "pattern": r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$",
        },
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "select"}}}, "then": {"required": ["choices"]}},
    ],
}
_HTTP_URL = {"type": "string", "pattern": r"^https?://[^\s]+$", "maxLength": 2000}
_TARGET = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"}
OAUTH_MAP_NAMES = (
    "access_token",
    "refresh_token",
    "token_url",
    "client_id",
    "client_secret",
    "scope",
)
OAUTH_SCHEMA = {
    "type": "object",
    "required": ["client", "authorize_url", "token_url"],
    "additionalProperties": False,
    "properties": {
        "client": {"type": "string", "pattern": _SLUG},
        "authorize_url": _HTTP_URL,
        "token_url": _HTTP_URL,
        "scopes": {"type": "array", "items": {"type": "string", "pattern": r"^[!#-\[\]-~]+$"}},
        # Only S256: `plain` gives nothing against a stolen code, and no code is exchanged
        # without PKCE.
        "pkce": {"const": "S256"},
        "access": {"type": "string", "maxLength": 300},
        "maps": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: _TARGET for name in OAUTH_MAP_NAMES},
        },
    },
}
SLOT_SCHEMA = {
    "type": "object",
    "required": ["key", "label", "connection_type", "template_connection_id", "fields"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": _SLUG},
        "label": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 2000},
        "connection_type": {"enum": list(CONNECTION_TYPES)},
        "template_connection_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "connection": {"type": "object"},
        "kind": {"enum": ["fields", "oauth"]},
        "oauth": OAUTH_SCHEMA,
        "fields": {"type": "array", "items": FIELD_SCHEMA},
    },
    "allOf": [
        {
            "if": {"properties": {"kind": {"const": "oauth"}}, "required": ["kind"]},
            "then": {"required": ["oauth"]},
            "else": {"properties": {"fields": {"minItems": 1}, "oauth": False}},
        }
    ],
}
SLOTS_SCHEMA = {"type": "array", "items": SLOT_SCHEMA}
# The template's own texts in other languages: {language code: {English text: translation}}
# (connect/template_texts.py looks them up; docs/i18n.md).
TRANSLATIONS_SCHEMA = {
    "type": "object",
    "propertyNames": {"pattern": "^[a-z]{2,3}(-[a-z0-9]{2,8})*$"},
    "additionalProperties": {
        "type": "object",
        "propertyNames": {"minLength": 1, "maxLength": 2000},
        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 2000},
    },
}
TEMPLATE_DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["key", "name", "source_integration_id", "slots", "settings_schema"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": _SLUG},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string"},
        "source_integration_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "version": {"type": ["string", "integer"]},
        "is_active": {"type": "boolean"},
        "slots": {"type": "array"},
        "settings_schema": {"type": "object"},
        "settings_mapping": {"type": "array"},
        "drift": {"enum": ["report", "repair"]},
        "portal": PORTAL_DOCUMENT_SCHEMA,
        "translations": TRANSLATIONS_SCHEMA,
    },
}
# Connection fields the server owns (docs/integrator-io.md, Transport); a slot may not set them.
_SERVER_FIELDS = ("_id", "createdAt", "lastModified", "lastModifiedBy", "type", "name")


def _schema_errors(schema: dict, value: Any, prefix: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in Draft202012Validator(schema).iter_errors(value):
        path = ".".join([prefix, *(str(part) for part in error.absolute_path)])
        fields.setdefault(path, []).append(error.message[:300])
    return fields


def slots_errors(slots: Any) -> dict[str, list[str]]:
    fields = _schema_errors(SLOTS_SCHEMA, slots, "slots")
    if fields:
        return fields
    slot_keys: set[str] = set()
    for index, slot in enumerate(slots):
        where = f"slots.{index}"
        if slot["key"] in slot_keys:
            fields.setdefault(f"{where}.key", []).append(f"Duplicate slot key {slot['key']!r}.")
        slot_keys.add(slot["key"])
        static = slot.get("connection", {})
        for name in _SERVER_FIELDS:
            if name in static:
                fields.setdefault(f"{where}.connection", []).append(
                    f"{name!r} is set by the service and may not be part of the slot."
                )
        names: set[str] = set()
        targets: set[str] = set()
        for name in oauth_client_moved(slot):
            fields.setdefault(f"{where}.oauth.maps.{name}", []).append(
                f"The OAuth client's secret and token URL stay at {DEFAULT_MAPS['client_secret']!r}"
                f" and {DEFAULT_MAPS['token_url']!r}, and nothing else goes there: a template "
                "may not move them (integrator.io sends the secret only to the token URL beside "
                "it, the client's own)."
            )
        for name, target in oauth_maps(slot).items():
            if target in targets:
                fields.setdefault(f"{where}.oauth.maps.{name}", []).append("Duplicate target.")
            if target.split(".")[0] != slot["connection_type"]:
                fields.setdefault(f"{where}.oauth.maps.{name}", []).append(
                    f"Must start with the connection type ({slot['connection_type']!r})."
                )
            targets.add(target)
        for field_index, field in enumerate(slot["fields"]):
            field_where = f"{where}.fields.{field_index}"
            if field["name"] in names:
                fields.setdefault(f"{field_where}.name", []).append("Duplicate field name.")
            names.add(field["name"])
            target = field["maps_to"]
            if target in targets:
                fields.setdefault(f"{field_where}.maps_to", []).append("Duplicate target.")
            targets.add(target)
            if target.split(".")[0] != slot["connection_type"]:
                fields.setdefault(f"{field_where}.maps_to", []).append(
                    f"Must start with the connection type ({slot['connection_type']!r})."
                )
            if "pattern" in field:
                try:
                    re.compile(field["pattern"])
                except re.error as error:
                    fields.setdefault(f"{field_where}.pattern", []).append(
                        f"Not a regular expression: {error}."
                    )
    return fields


def settings_schema_errors(schema: Any) -> dict[str, list[str]]:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return {"settings_schema": ['Must be a JSON Schema of "type": "object".']}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return {"settings_schema": [f"Not a valid JSON Schema: {error.message[:300]}"]}
    if _remote_refs(schema):
        return {"settings_schema": ["Only local $ref (starting with #) is allowed."]}
    # A tenant that overrides nothing must be valid: the defaults are its settings.
    defaults_errors = settings_errors(
        schema=schema, settings=schema_defaults(schema), prefix="settings_schema.defaults"
    )
    return defaults_errors


def _remote_refs(schema: Any) -> bool:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_remote_refs(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_remote_refs(value) for value in schema)
    return False


def template_validate(*, slots: Any, settings_schema: Any) -> None:
    """Raise TemplateInvalid, with every problem by path, unless both parts are usable."""
    fields = {**slots_errors(slots), **settings_schema_errors(settings_schema)}
    if fields:
        raise TemplateInvalid("The template is not valid.", fields=fields)


def translations_errors(translations: Any) -> dict[str, list[str]]:
    """What is wrong with a template's `translations`, by path (empty: nothing)."""
    return _schema_errors(TRANSLATIONS_SCHEMA, translations, "translations")


def template_document_read(*, path: Path) -> Any:
    """A template document from a .json, .yaml or .yml file (not yet validated).

    Raises OSError, ValueError (bad JSON) or yaml.YAMLError.
    """
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def version_digest(
    *,
    source_integration_id: str,
    slots: list,
    settings_schema: dict,
    settings_mapping: list,
    portal: dict | None = None,
) -> str:
    """What makes two publications of one version "the same": their content, not their
    template's name, description, translations or whether it takes new tenants. A `portal`
    declaration is content too; left out when empty, so versions published before it existed
    keep theirs."""
    content = {
        "source_integration_id": source_integration_id,
        "slots": slots,
        "settings_schema": settings_schema,
        "settings_mapping": settings_mapping,
    }
    if portal:
        content["portal"] = portal
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def template_document_validate(*, document: Any) -> None:
    """Raise TemplateInvalid, with every problem by path, unless `document` can be published
    (all but the checks against its integration's snapshot, which `template_load` makes)."""
    fields = _schema_errors(TEMPLATE_DOCUMENT_SCHEMA, document, "template")
    if fields:
        raise TemplateInvalid("The template document is not valid.", fields=fields)
    template_validate(slots=document["slots"], settings_schema=document["settings_schema"])
    mapping_errors = settings_mapping_errors(
        mapping=document.get("settings_mapping", []), settings_schema=document["settings_schema"]
    )
    if mapping_errors:
        raise TemplateInvalid(
            "The template's settings mapping is not valid.", fields=mapping_errors
        )
    portal_validate(portal=document.get("portal"), settings_schema=document["settings_schema"])


@transaction.atomic
def template_load(
    *, document: Any, snapshot: dict | None = None, account: IntegratorAccount | None = None
) -> tuple[IntegrationTemplate, bool]:
    """Publish the version `document["version"]` of the template `document["key"]`.

    Returns (template, created): `created` when the template is new. A version is immutable:
    loading a published version again with the same content only updates the template's
    name, description, translations, `is_active` and drift action, and only when it is the
    newest version (an older one's file changes nothing); with other content it is refused
    (VersionConflict). A new version becomes the template's newest, for new tenants; existing
    tenants stay on their version until it is rolled out to them. So a new version must be
    higher than every one published before (VersionNotNewer; `template_version_order_check`).

    `snapshot` (`template_snapshots.template_snapshot_take`) is stored on a new version, after
    checking that the version names only flows and connections the template integration has
    (TemplateInvalid otherwise); a published version keeps the snapshot it was published
    with (none, if published offline), whatever is given later. It is not part of the digest:
    the same document read at another time is the same version.

    `account` is the integrator.io account the template integration lives in (default: the
    default account) and its tenants are placed on; a template never changes account, since
    its tenants' integrations stay where they were cloned (TemplateInvalid).
    """
    template_document_validate(document=document)
    mapping = document.get("settings_mapping", [])
    version = str(document.get("version", "1"))
    content = {
        "source_integration_id": document["source_integration_id"],
        "slots": document["slots"],
        "settings_schema": document["settings_schema"],
        "settings_mapping": mapping,
        "portal": document.get("portal") or {},
    }
    digest = version_digest(**content)
    template, created = IntegrationTemplate.objects.select_for_update().get_or_create(
        key=document["key"],
        defaults={
            "name": document["name"],
            "version": version,
            "account": account or integrator_account_default(),
            **_latest(content),
        },
    )
    if account is not None and template.account_id != account.pk:
        _account_changed(template, account)
    published = TemplateVersion.objects.filter(template=template, version=version).first()
    if published is not None and published.digest != digest:
        differing = [name for name, value in content.items() if getattr(published, name) != value]
        raise VersionConflict(
            f"Version {version} of the template {template.key!r} is already published with "
            f"other content ({', '.join(differing) or 'its digest'} differ), and a published "
            "version never changes (tenants are built from it). Publish the change as a new "
            "version."
        )
    # The template's own fields (the texts customers see, and whether it takes new tenants) are
    # the newest version's file's: an older version's file loaded again (a deploy script that
    # loads every file) put its old name, description and translations back on every form.
    if published is None or published.pk == template_version_current(template=template).pk:
        template.name = document["name"]
        template.description = document.get("description", "")
        template.translations = document.get("translations") or {}
        template.is_active = document.get("is_active", True)
        template.drift_action = document.get("drift", "report")
    if published is None:
        template_version_order_check(template_key=template.key, version=version)
        if snapshot is not None:
            _snapshot_validate(snapshot=snapshot, content=content)
        published = TemplateVersion.objects.create(
            template=template,
            version=version,
            digest=digest,
            snapshot=snapshot or {},
            **content,
        )
        audit_record(
            action="template_version.publish",
            target=published,
            after={"template": template.key, "version": version, "digest": digest},
        )
        template.version = version
        for name, value in _latest(content).items():
            setattr(template, name, value)
    template.save()
    return template, created


def template_account_check(*, template_key: str, account: IntegratorAccount | None) -> None:
    """Raise TemplateInvalid when the template `template_key` exists on another integrator.io
    account than `account` (None: whichever it is on): a template never changes account. For
    `load_template --account`, before it reads the template integration from that account,
    where it may not be at all (that read's "not in the account" would hide the reason)."""
    if account is None:
        return
    template = IntegrationTemplate.objects.select_related("account").filter(key=template_key)
    template = template.first()
    if template is not None and template.account_id != account.pk:
        _account_changed(template, account)


def _account_changed(template: IntegrationTemplate, account: IntegratorAccount) -> NoReturn:
    raise TemplateInvalid(
        f"The template {template.key!r} lives on the integrator.io account "
        f"{template.account.key!r}, not {account.key!r}: a template never changes account "
        "(its tenants stay where they were cloned). Publish it under another key.",
        fields={"account": ["A template never changes account."]},
    )


def template_version_order_check(*, template_key: str, version: str) -> None:
    """Raise VersionNotNewer unless `version` may be published as the template's newest: it
    is higher than every version published so far, as a package registry wants its latest
    release to be. The version published last is the one new tenants are built to and the one
    `upgrade_available` offers, so a lower one published after a higher one would build new
    tenants without what the higher one added, and could not be retired (it is the newest).

    Version names outside the dotted order (`tenants.version_order`) are not compared: for
    them the order of publishing decides, as it always has. A version already published is no
    new version (`template_load` tells the same content from other content)."""
    published = TemplateVersion.objects.filter(template__key=template_key).values_list(
        "version", flat=True
    )
    # False: both in the order and `version` is not above `other` (None: not comparable).
    above = [other for other in published if version_higher(version, other) is False]
    if above:
        newest = max(above, key=version_key)
        raise VersionNotNewer(
            f"Version {version} of the template {template_key!r} is not higher than version "
            f"{newest}, already published: new tenants are built to the version published "
            "last, and a lower one would build them without what the higher one added. "
            f"Publish the change as a version above {newest}.",
            fields={"version": [f"Must be higher than {newest}."]},
        )


def _snapshot_validate(*, snapshot: dict, content: dict) -> None:
    fields = snapshot_errors(
        snapshot=snapshot,
        source_integration_id=content["source_integration_id"],
        slots=content["slots"],
        settings_schema=content["settings_schema"],
        mapping=content["settings_mapping"],
    )
    if fields:
        raise TemplateInvalid(
            "The template does not match its integration in integrator.io.", fields=fields
        )


def _latest(content: dict) -> dict:
    """The template row's copy of its newest version's content (for new tenants)."""
    return {
        "source_integration_id": content["source_integration_id"],
        "slots": content["slots"],
        "settings_schema": content["settings_schema"],
    }


def template_version_current(*, template: IntegrationTemplate) -> TemplateVersion:
    """The version new tenants of `template` are built to: the one published last (read from
    the database, not from `template`, which may be an older copy). It is never retired
    (`template_version_retire` refuses to), so new tenants never land on a retired version."""
    return TemplateVersion.objects.filter(template_id=template.pk).latest("published_at", "id")

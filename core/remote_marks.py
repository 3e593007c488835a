"""The marks this deployment leaves on what it writes to integrator.io, and reading them back.

Every integration this deployment clones and every connection it creates carries, in its
`tag` (integrations), its `externalId` (connections) and its `name`, the deployment's identity
and the tenant's `uid` (never a database row id, which another deployment reuses):

    integration tag       embedded:k3v9x2m7q1:a8f0c2d4e6b1:shop-to-erp
    connection externalId embedded:k3v9x2m7q1:a8f0c2d4e6b1:slot:shop
    names                 "Shop to ERP - Acme [k3v9x2m7q1/a8f0c2d4e6b1]"

Adoption (finding a clone or connection whose creation answer was lost), orphan reports,
repair and every delete act only on resources whose mark names this deployment. The name
carries the mark too because no public source says that a clone keeps the `tag` of its
request: the provisioning engine reads the tag back and sets it when it is missing, and until
then the name is how the clone is found again.

Resources written before deployments had an identity carry the legacy marks
`embedded:t<tenant pk>:<template>` (tag) and `embedded:tenant-<pk>:<slot>` (externalId); they
are recognised and re-marked (see provisioning.remote_marks_upgrade).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.deployment import IDENTITY_PATTERN, deployment_identity

TENANT_UID_PATTERN = r"[a-z0-9]{12}"
_SLUG = r"[a-z0-9][a-z0-9_-]*"
# Integration and connection names are limited to 100 characters (integrator.io).
MAX_NAME_LENGTH = 100
LEGACY_CONNECTION_PREFIX = "embedded"


@dataclass(frozen=True)
class RemoteMark:
    """Who a resource in integrator.io says it belongs to.

    `deployment` is None for a legacy mark, which names a tenant by row id (`legacy_tenant_pk`)
    and no deployment.
    """

    deployment: str | None
    tenant_uid: str | None
    template_key: str | None = None
    slot_key: str | None = None
    legacy_tenant_pk: int | None = None

    @property
    def is_ours(self) -> bool:
        return self.deployment == deployment_identity()

    @property
    def is_legacy(self) -> bool:
        return self.deployment is None


def _prefix() -> str:
    return settings.PROVISIONING_TAG_PREFIX


def integration_tag(*, tenant_uid: str, template_key: str) -> str:
    return f"{_prefix()}:{deployment_identity()}:{tenant_uid}:{template_key}"


def connection_external_id(*, tenant_uid: str, slot_key: str) -> str:
    return f"{_prefix()}:{deployment_identity()}:{tenant_uid}:slot:{slot_key}"


def name_with_mark(name: str, *, tenant_uid: str) -> str:
    """`name`, cut to leave room, followed by ` [<identity>/<tenant uid>]`."""
    suffix = f" [{deployment_identity()}/{tenant_uid}]"
    return name[: MAX_NAME_LENGTH - len(suffix)].rstrip() + suffix


def integration_name(*, template_name: str, tenant_name: str, tenant_uid: str) -> str:
    return name_with_mark(f"{template_name} - {tenant_name}", tenant_uid=tenant_uid)


def legacy_integration_tag(*, tenant_pk: int, template_key: str) -> str:
    return f"{_prefix()}:t{tenant_pk}:{template_key}"


def legacy_connection_external_id(*, tenant_pk: int, slot_key: str) -> str:
    return f"{LEGACY_CONNECTION_PREFIX}:tenant-{tenant_pk}:{slot_key}"


def _name_mark(name: Any) -> tuple[str, str] | None:
    if not isinstance(name, str):
        return None
    match = re.search(rf" \[({IDENTITY_PATTERN})/({TENANT_UID_PATTERN})\]$", name)
    return (match[1], match[2]) if match else None


def integration_mark(doc: dict) -> RemoteMark | None:
    """The mark of an integration document (its tag, else its name), or None."""
    tag = doc.get("tag")
    if isinstance(tag, str):
        prefix = re.escape(_prefix())
        match = re.fullmatch(
            rf"{prefix}:({IDENTITY_PATTERN}):({TENANT_UID_PATTERN}):({_SLUG})", tag
        )
        if match:
            return RemoteMark(deployment=match[1], tenant_uid=match[2], template_key=match[3])
        legacy = re.fullmatch(rf"{prefix}:t(\d+):({_SLUG})", tag)
        if legacy:
            return RemoteMark(
                deployment=None,
                tenant_uid=None,
                template_key=legacy[2],
                legacy_tenant_pk=int(legacy[1]),
            )
    named = _name_mark(doc.get("name"))
    if named:
        return RemoteMark(deployment=named[0], tenant_uid=named[1])
    return None


def connection_mark(doc: dict) -> RemoteMark | None:
    """The mark of a connection document (its externalId, else its name), or None."""
    external_id = doc.get("externalId")
    if isinstance(external_id, str):
        prefix = re.escape(_prefix())
        match = re.fullmatch(
            rf"{prefix}:({IDENTITY_PATTERN}):({TENANT_UID_PATTERN}):slot:({_SLUG})", external_id
        )
        if match:
            return RemoteMark(deployment=match[1], tenant_uid=match[2], slot_key=match[3])
        legacy = re.fullmatch(rf"{LEGACY_CONNECTION_PREFIX}:tenant-(\d+):({_SLUG})", external_id)
        if legacy:
            return RemoteMark(
                deployment=None,
                tenant_uid=None,
                slot_key=legacy[2],
                legacy_tenant_pk=int(legacy[1]),
            )
    named = _name_mark(doc.get("name"))
    if named:
        return RemoteMark(deployment=named[0], tenant_uid=named[1])
    return None


def belongs_to_other_deployment(mark: RemoteMark | None) -> bool:
    """True when the resource names a deployment, and it is not this one."""
    return mark is not None and mark.deployment is not None and not mark.is_ours

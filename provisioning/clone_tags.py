"""The `tag` every tenant's clone carries in integrator.io.

It is derived from the tenant and the template only (never the job), so that any job of the
tenant (a retry, a repair, a deprovision) finds the same clone by it, and so that the sweeper
can tell which tenant an integration in the account belongs to.

    embedded:t42:shop-erp  ->  tenant pk 42, template key "shop-erp"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioning.policy import POLICY

# Integration names are limited to 100 characters (digest §3).
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CloneTag:
    tenant_pk: int
    template_key: str


def clone_tag(*, tenant_pk: int, template_key: str) -> str:
    return f"{POLICY.tag_prefix}:t{tenant_pk}:{template_key}"


def clone_tag_parse(tag: object) -> CloneTag | None:
    """The tenant and template a tag names, or None if it is not one of ours."""
    if not isinstance(tag, str):
        return None
    match = re.fullmatch(rf"{re.escape(POLICY.tag_prefix)}:t(\d+):([a-z0-9][a-z0-9_-]*)", tag)
    if match is None:
        return None
    return CloneTag(tenant_pk=int(match[1]), template_key=match[2])


def clone_name(*, template_name: str, tenant_name: str) -> str:
    return f"{template_name} - {tenant_name}"[:MAX_NAME_LENGTH]

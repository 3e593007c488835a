"""Retiring a published template version.

A retired version takes no new tenants and is no rollout target; the tenants already on it
stay there until they are moved. The version new tenants are built to (the newest) cannot be
retired: there would be nothing left to build them to.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from tenants.errors import VersionNotRetirable
from tenants.models import IntegrationTemplate, TemplateVersion
from tenants.services.templates import template_version_current


@transaction.atomic
def template_version_retire(*, version: TemplateVersion) -> TemplateVersion:
    """Retire `version` (again: unchanged). Raises VersionNotRetirable for the current one."""
    # Locked like `template_load`, so that a version published meanwhile is seen here.
    template = IntegrationTemplate.objects.select_for_update().get(pk=version.template_id)
    if template_version_current(template=template).pk == version.pk:
        raise VersionNotRetirable(
            f"Version {version.version} of {template.key!r} is the one new tenants are built "
            "to and cannot be retired; publish a newer version first."
        )
    if version.retired_at is None:
        version.retired_at = timezone.now()
        version.save(update_fields=["retired_at"])
        # Only what changed: the version is the target, the same one its
        # template_version.publish event names with its template and version.
        audit_record(
            action="template_version.retire",
            target=version,
            before={"retired_at": None},
            after={"retired_at": version.retired_at},
        )
    return version


def template_version_open(*, version: TemplateVersion) -> bool:
    """Whether `version` may still receive tenants (new ones, or by a rollout)."""
    return version.retired_at is None

"""A tenant's desired state for a version of its template: what the reconcile step applies and
what a plan preview compares with. Builds the pure `reconcile.desired.desired_state` from the
database (the version, the tenant's settings and marks) and the tenant's connections."""

from __future__ import annotations

from collections.abc import Mapping

from core.remote_marks import integration_name, integration_tag
from provisioning.errors import SettingsDoNotFitVersion, VersionWithoutSnapshot
from provisioning.reconcile.desired import desired_state
from provisioning.reconcile.state import DesiredState
from tenants.errors import SettingsInvalid
from tenants.models import TemplateVersion, Tenant
from tenants.services import settings_effective


def tenant_desired_state(
    *, tenant: Tenant, version: TemplateVersion, connection_map: Mapping[str, str]
) -> DesiredState:
    """Raises VersionWithoutSnapshot, or SettingsDoNotFitVersion (with the fields)."""
    if not version.snapshot:
        raise VersionWithoutSnapshot(
            f"Version {version.version} of {version.key!r} was published without a snapshot "
            "of its template integration, so there is nothing to compare with. Publish the "
            "template again as a new version while integrator.io is reachable."
        )
    settings = tenant_settings_for_version(tenant=tenant, version=version)
    return desired_state(
        snapshot=version.snapshot,
        template_key=version.key,
        version=version.version,
        source_integration_id=version.source_integration_id,
        settings_schema=version.settings_schema,
        settings_mapping=version.settings_mapping,
        settings=settings,
        connection_map=connection_map,
        tag=integration_tag(tenant_uid=tenant.uid, template_key=version.key),
        name=integration_name(
            template_name=version.name, tenant_name=tenant.name, tenant_uid=tenant.uid
        ),
    )


def tenant_settings_for_version(*, tenant: Tenant, version: TemplateVersion) -> dict:
    """The tenant's effective settings under `version`; SettingsDoNotFitVersion (with the
    fields) when its overrides are not valid there (a setting only another version has)."""
    try:
        return settings_effective(template=version, overrides=tenant.settings)
    except SettingsInvalid as error:
        raise SettingsDoNotFitVersion(
            f"The tenant's settings do not fit version {version.version}; change them first "
            "(a setting given as null in PATCH /tenants/{id} goes back to its default).",
            fields=error.fields,
        ) from None


def tenant_connection_map(*, tenant: Tenant, version: TemplateVersion) -> dict[str, str]:
    """{template connection id: the tenant's connection id} for every slot that has one."""
    rows = {
        slot_key: connection_id
        for slot_key, connection_id in tenant.connections.values_list("slot_key", "connection_id")
        if connection_id
    }
    return {
        slot["template_connection_id"]: rows[slot["key"]]
        for slot in version.slots
        if slot["key"] in rows
    }

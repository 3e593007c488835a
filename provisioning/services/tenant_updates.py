"""Changing a tenant's name, settings or allowed origins, and applying new settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from provisioning.models import Job, JobKind
from provisioning.services.jobs import job_request
from tenants.models import Tenant
from tenants.services import tenant_update


@dataclass(frozen=True)
class TenantUpdateOutcome:
    settings_changed: bool
    job: Job | None = None


def tenant_settings_update(
    *,
    tenant: Tenant,
    requested_by: str,
    name: str | None = None,
    settings_patch: dict | None = None,
    settings_overrides: dict | None = None,
    allowed_origins: list[str] | None = None,
) -> TenantUpdateOutcome:
    """Save the changes and, when the settings changed and the tenant has an integration,
    queue the job that applies them to it; both or neither (one transaction). The settings
    come as `tenants.services.tenant_update` takes them: a merge patch (the API, the
    integration page) or the overrides whole (the admin's editor).

    Without an integration there is nothing to update yet: provisioning applies the settings
    as they are when it runs.
    """
    with transaction.atomic():
        settings_changed = tenant_update(
            tenant=tenant,
            name=name,
            settings_patch=settings_patch,
            settings_overrides=settings_overrides,
            allowed_origins=allowed_origins,
        )
        job = None
        if settings_changed and tenant.integration_id:
            # The update is recorded in the audit log (tenant.update); its job is part of it.
            job = job_request(
                tenant=tenant,
                kind=JobKind.UPDATE_SETTINGS,
                requested_by=requested_by,
                audited=False,
            )
    return TenantUpdateOutcome(settings_changed=settings_changed, job=job)

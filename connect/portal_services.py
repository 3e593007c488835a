"""What a customer changes on their integration page, each through the service the host's API
uses for the same change (so validation, the reconcile job and the events are the same).

- settings: `provisioning.services.tenant_settings_update`, with only the settings the
  template version lets the customer change (`tenants.services.portal_access`);
- a flow switched on or off: the same, on the flow's switch setting; the `update_settings`
  job's reconcile sets the flow's `disabled` in integrator.io;
- a run's errors retried or resolved: `runs.actions` (integrator.io's Error Management 2.0).

Each refuses a read-only link, or one that does not show the section the change belongs to.
"""

from __future__ import annotations

from django.db import transaction

from core.errors import ApplicationError
from provisioning.models import JobOrigin
from provisioning.services import TenantUpdateOutcome, tenant_settings_update
from runs import actions
from runs.run_errors import RetriedRunErrors
from tenants.models import ConnectLink, PortalSection, Tenant, TenantConnection
from tenants.services.portal_access import customer_flow_patch, customer_settings_patch
from tenants.services.settings import tenant_effective_settings


class PortalChangeRefused(ApplicationError):
    """The link may not change this: it is read-only, or does not show the section."""

    code = "portal_change_refused"
    http_status = 403


def portal_change_allowed(*, link: ConnectLink, section: str) -> None:
    if link.read_only or section not in (link.sections or []):
        raise PortalChangeRefused("This page cannot change that.")


class SettingsChangedSince(ApplicationError):
    """A setting the person changed was changed by someone else (another tab, a colleague,
    the host's API) since their page showed it: nothing is saved. `fields` names each such
    setting (`settings.<name>`)."""

    code = "settings_changed_since"
    http_status = 409


def portal_settings_save(
    *, link: ConnectLink, values: dict, shown: dict | None = None
) -> TenantUpdateOutcome:
    """Save the customer's settings (only editable ones; SettingNotEditable otherwise).

    `shown` is what the page showed of each setting when it was rendered: the form sends
    every field, so without it a page opened before someone else's change would save its
    stale values over that change. With it, only the settings the person changed are saved,
    and if one of those was changed meanwhile too, nothing is (SettingsChangedSince). None
    (a page rendered without it): every value is saved, as before."""
    portal_change_allowed(link=link, section=PortalSection.SETTINGS)
    # Locked from the read to the write: two pages saving the same setting at once would
    # otherwise both find it as they showed it, and the second would undo the first.
    with transaction.atomic():
        tenant = (
            Tenant.objects.select_for_update()
            .select_related("template", "template_version")
            .get(pk=link.tenant_id)
        )
        return _settings_save(tenant=tenant, values=values, shown=shown)


def _settings_save(*, tenant: Tenant, values: dict, shown: dict | None) -> TenantUpdateOutcome:
    effective = tenant_effective_settings(tenant=tenant)
    if shown is not None:
        # A name the page did not show stays in, so that the patch refuses it.
        values = {
            name: value
            for name, value in values.items()
            if name not in shown or value != shown[name]
        }
        changed_since = sorted(
            name
            for name, value in values.items()
            if name in shown and effective.get(name) != shown[name] and effective.get(name) != value
        )
        if changed_since:
            raise SettingsChangedSince(
                "These settings were changed since the page showed them.",
                fields={
                    f"settings.{name}": ["This setting was changed since the page showed it."]
                    for name in changed_since
                },
            )
    patch = customer_settings_patch(
        version=tenant.template_version, values=values, effective=effective
    )
    if not patch:
        return TenantUpdateOutcome(settings_changed=False)
    return tenant_settings_update(
        tenant=tenant, requested_by=JobOrigin.PORTAL, settings_patch=patch
    )


def portal_flow_switch(*, link: ConnectLink, flow_path: str, enabled: bool) -> TenantUpdateOutcome:
    """Switch a flow on or off (FlowNotToggleable unless the template lets the customer)."""
    portal_change_allowed(link=link, section=PortalSection.FLOWS)
    tenant = link.tenant
    patch = customer_flow_patch(
        version=tenant.template_version, flow_path=flow_path, enabled=enabled
    )
    return tenant_settings_update(
        tenant=tenant, requested_by=JobOrigin.PORTAL, settings_patch=patch
    )


def portal_connections_check(*, link: ConnectLink) -> list[TenantConnection]:
    """Ping the tenant's connections now: the periodic check's service, with the API's
    once-per-tenant turn (ConnectionCheckTooSoon when it was taken moments ago)."""
    portal_change_allowed(link=link, section=PortalSection.CONNECTIONS)
    return actions.tenant_connections_check_now(tenant=link.tenant)


def portal_run_errors_act(
    *, link: ConnectLink, job_id: str, action: str, error_ids: list[str] | None
) -> RetriedRunErrors | list:
    """Retry (`retry`) or mark resolved (`resolve`) a run's open errors, all or those named."""
    portal_change_allowed(link=link, section=PortalSection.RUNS)
    if action == "retry":
        return actions.run_errors_retry_now(tenant=link.tenant, job_id=job_id, error_ids=error_ids)
    # The page offered "Mark all resolved" because errors were open; if none is any more (another
    # tab, a colleague), "Marked as resolved." would be untrue: it says that none was open.
    return actions.run_errors_resolve_now(
        tenant=link.tenant, job_id=job_id, error_ids=error_ids, refuse_none_open=True
    )

"""What a reconcile would change in a tenant's integration, without changing anything (a dry
run): for the API's `GET /tenants/{id}/plan` and the admin's tenant page."""

from __future__ import annotations

from dataclasses import dataclass

from core.integrator_client import build_integrator_client, remote_error_for_caller
from integrator.errors import IntegratorError
from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.reconcile.changes import Change
from provisioning.reconcile.observe import observe
from provisioning.reconcile.planner import plan
from provisioning.reconcile.simulate import api_calls
from tenants.call_costs import CallTally
from tenants.errors import TemplateVersionNotFound
from tenants.models import CallPurpose, TemplateVersion, Tenant


@dataclass(frozen=True)
class PlanPreview:
    version: TemplateVersion
    integration_id: str | None
    changes: tuple[Change, ...]
    # Calls carrying the changes out would cost (reading the state is not counted).
    api_calls: int


def tenant_plan_preview(*, tenant: Tenant, version: str | None = None) -> PlanPreview:
    """The plan that would bring the tenant's integration to `version` of its template (its
    own version when None). Reads integrator.io (four calls), writes nothing."""
    target = tenant.template_version
    if version is not None:
        target = TemplateVersion.objects.filter(
            template_id=tenant.template_id, version=version
        ).first()
        if target is None:
            # Named in the query: the same 404 as a version named in a path.
            raise TemplateVersionNotFound(
                f"The template {tenant.template.key!r} has no published version {version!r}."
            )
    desired = tenant_desired_state(
        tenant=tenant,
        version=target,
        connection_map=tenant_connection_map(tenant=tenant, version=target),
    )
    tally = CallTally(tenant_id=tenant.pk, purpose=CallPurpose.PLAN)
    try:
        with build_integrator_client(
            account=tenant.account, interactive=True, on_call=tally
        ) as client:
            observed = observe(client, tenant.integration_id or None)
    except IntegratorError as error:
        raise remote_error_for_caller(error, not_done="no plan was made") from None
    finally:
        tally.flush()
    changes = plan(desired, observed)
    return PlanPreview(
        version=target,
        integration_id=observed.integration_id,
        changes=changes,
        api_calls=api_calls(changes),
    )

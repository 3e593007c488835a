"""What a step gets to work with, and how it ends a job early.

Steps are plain functions `step(ctx) -> dict | Stop`. The dict is the step's output (ids
created, what changed), stored on its JobStep. Every write a step makes to our database goes
through `ctx` (which checks that this worker still holds the job's lease); its remote calls go
through `ctx.client` (which does the same before each call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from provisioning.lease import FencedClient
from provisioning.models import Job
from tenants.models import TemplateVersion, Tenant, TenantConnection


@dataclass(frozen=True)
class Stop:
    """End the job here, without doing the rest (e.g. no credentials yet): it is recorded as
    canceled, with `reason` as its error code and `message` for a person."""

    output: dict
    reason: str
    message: str


@dataclass
class StepContext:
    job: Job
    tenant: Tenant
    # The version the tenant is built to: its slots, settings schema and settings mapping.
    template: TemplateVersion
    # The integrator client (its methods), checking the lease before each call; and
    # `side_by_side` for calls that do not depend on each other.
    client: FencedClient
    # Outputs of the steps of this job that have succeeded, by step name.
    outputs: Mapping[str, dict]
    # This step's output as an interrupted earlier attempt left it (e.g. a recorded intent).
    previous: dict
    # Merge values into this step's stored output now, in its own transaction.
    save: Callable[[dict], None]
    # Store the tenant's integration id ("" forgets it), with the step's success.
    commit_integration: Callable[[str], None]
    # Forget these connection ids on the tenant's slots (deleted remotely), with the step's
    # success.
    commit_connections_deleted: Callable[[list[str]], None]
    # Move the tenant to a status, together with this step's success.
    move_tenant: Callable[[str], None]
    # The tenant's effective settings; `True` reads them again from the database if this run
    # already used them (the first ask takes the row read with the claim).
    load_settings: Callable[[bool], dict]

    def effective_settings(self, *, fresh: bool = False) -> dict:
        """The settings this run applies: as read with the claim, or read again by the settings
        step of a later round (`fresh`), then the same for the steps that follow it."""
        return self.load_settings(fresh)

    def connection_map(self) -> dict[str, str]:
        """{template connection id: the tenant's connection id} for every slot that has one."""
        known = self.outputs.get("connections", {}).get("connection_map")
        if known is not None:
            return dict(known)
        rows = {
            row.slot_key: row.connection_id
            for row in TenantConnection.objects.filter(tenant_id=self.tenant.pk)
            if row.connection_id
        }
        return {
            slot["template_connection_id"]: rows[slot["key"]]
            for slot in self.template.slots
            if slot["key"] in rows
        }

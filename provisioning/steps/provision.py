"""Giving a tenant its own copy of the template integration, one idempotent step at a time.

A job runs its steps in order and resumes at its first unfinished one. Any step may run
again after a crash or a retry, so each one reads what exists (remotely, or what an earlier
attempt recorded) before it changes anything, and reaches the same end.

1. connections: every slot of the template has an `ok` TenantConnection. If one has not, a
   provision stops here, recorded as canceled (waiting_for_credentials), and the tenant waits
   for credentials (a repair fails: it cannot work without them). Otherwise the tenant
   becomes `provisioning`, unless its integration is live (active or degraded: a repair or
   an upgrade of it), which it stays.
2. clone: the tenant has its clone and the clone's id is committed on the tenant.
   a. The id is already committed: nothing to do (a repair confirms it still exists and is
      the tenant's, and clones again if it was deleted).
   b. Some attempt of some job of this tenant recorded the intent to clone (the tag): look
      the tenant's mark up among the account's integrations (tag, or name: see
      core.remote_marks) and adopt a match. Only this deployment's marks count.
   c. Record the intent (the tag, derived from deployment, tenant uid and template, never
      the job), then POST /integrations/{template}/clone with name and tag (both carrying
      the mark) and connectionMap (template connection ids -> the tenant's), and commit the
      new id with the step's success, the very next write (until then, 2b is the recovery
      path).
      A lost answer (outcome unknown) is never re-sent blindly: the job retries later, after
      the request had time to land, and 2b looks it up; only a confirmed "none" clones again.
3. wire: read the clone's flows, exports and imports; every export and import must use one
   of the tenant's connections; repoint any that does not (through the slot of the template
   connection it came from), then delete the connections the clone copied instead of mapping.
4. settings: the version's defaults deep-merged with the tenant's settings (validated against
   the version's schema), placed where the version's settings mapping says (all of them,
   when it has none: see tenants.settings_mapping), are merged into the integration's
   current settings and written back (read, merge, write): keys we do not manage are kept,
   and nothing is written when nothing differs. The same read checks that the integration
   is the tenant's (its mark) and that it carries the tenant's tag, which is written with
   the settings when it does not (no public source says a clone keeps the tag of its
   request).
5. enable: PATCH each flow whose `disabled`, `schedule` or `timezone` differs from what the
   settings say (enabled by default, see flow_switches; schedules and timezones by the
   mapping: a clone has none, so without this no flow would ever run by itself), and write
   the flow settings the mapping gives. A PATCH answered 204 took effect: no read back.
6. verify: read the integration and its flows and compare with what was intended. The
   runner then makes the tenant `active`.

`update_settings` runs steps 4 to 6; `repair` runs all six against the existing clone.

**Fast path: a fresh clone is not read back** (provisioning.clone_check). When this job made
the clone (2c), the version has a snapshot, the template integration still holds it (checked
before the POST, at most once a minute per process) and the clone's manifest matches it (the
same flows by name, as many exports and imports, no copied connection), what the clone holds
is known. Then 3 reads nothing; 4 writes the snapshot's settings merged with the tenant's,
the marker and the tag in one PATCH and, side by side with it, reads the connections the
integration uses (the one thing the manifest does not say: a clone wired to a connection that
is not the tenant's); 5 switches no flow on unless that wiring is right, then writes each
flow's schedule, timezone and `disabled` in one PATCH per flow (side by side), and nothing
reads them back (a 204 took effect); the reconcile step has nothing left to do unless the
mapping places settings into exports or imports; and 6 judges the wiring read in 4. For the
demo template: settings 1 + wiring 1, in one round; clone 1, flows 3 = 6 calls, in three
rounds.
A manifest that does not match (a clone that missed a flow or copied a connection) is
recorded (`clone_problems`) and the job takes the reading path, which repairs it.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from core.remote_marks import integration_mark, integration_name, integration_tag
from integrator.client import IntegratorClient
from integrator.errors import NotFoundError, ValidationError
from integrator.resources import Flow
from provisioning.clone_check import predicted_flows, template_source_unchanged
from provisioning.errors import StepFailed
from provisioning.flow_switches import flows_disabled_wanted
from provisioning.job_progress import clone_step_outputs, tenant_connection_rows
from provisioning.models import JobKind
from provisioning.ownership import (
    connection_may_delete,
    integration_require_tenants,
    mark_is_tenants,
)
from provisioning.reconcile.documents import settings_with_marker, settings_without_marker
from provisioning.settings_digest import settings_digest
from provisioning.steps.context import StepContext, Stop
from provisioning.tenant_status import LIVE_STATUSES
from tenants.models import ConnectionStatus, TenantStatus
from tenants.services import deep_merge
from tenants.settings_mapping import MappedSettings, settings_mapped, timezone_for_schedule


def connections(ctx: StepContext) -> dict | Stop:
    if not ctx.template.slots:
        raise StepFailed("template_has_no_slots", f"Template {ctx.template.key!r} has no slots.")
    rows = {
        slot_key: (status, connection_id)
        for slot_key, status, connection_id in tenant_connection_rows(tenant_pk=ctx.tenant.pk)
    }
    not_ready = [
        slot["key"]
        for slot in ctx.template.slots
        if (row := rows.get(slot["key"])) is None or row[0] != ConnectionStatus.OK or not row[1]
    ]
    if not_ready:
        if ctx.job.kind == JobKind.PROVISION:
            return Stop(
                output={"waiting_for": not_ready},
                reason="waiting_for_credentials",
                message="Nothing was done: no working connection for "
                f"{', '.join(not_ready)}. Provisioning starts when every slot works.",
            )
        raise StepFailed(
            "connections_not_ready",
            "These connections are missing or failing their test: "
            f"{', '.join(not_ready)}. Enter working credentials, then retry.",
        )
    if ctx.tenant.status not in LIVE_STATUSES:
        # A live integration (an upgrade or a repair of it) keeps running while the job works
        # on it, so the tenant stays live: should the job fail, it becomes degraded, not
        # failed (provisioning.tenant_status).
        ctx.move_tenant(TenantStatus.PROVISIONING)
    return {
        "connection_map": {
            slot["template_connection_id"]: rows[slot["key"]][1] for slot in ctx.template.slots
        }
    }


def clone(ctx: StepContext) -> dict:
    tenant, template = ctx.tenant, ctx.template
    tag = integration_tag(tenant_uid=tenant.uid, template_key=template.key)

    if tenant.integration_id:
        if ctx.job.kind != JobKind.REPAIR:
            return {"integration_id": tenant.integration_id, "how": "known", "tag": tag}
        try:
            integration = ctx.client.get_integration(tenant.integration_id)
        except NotFoundError:
            ctx.save({"missing_integration_id": tenant.integration_id})
            ctx.commit_integration("")
        else:
            integration_require_tenants(integration.raw, tenant=tenant)
            return {"integration_id": tenant.integration_id, "how": "confirmed", "tag": tag}

    intents = clone_intents(tenant_pk=tenant.pk)
    if intents:
        adopted = _adopt(ctx, tag=tag, intents=intents)
        if adopted is not None:
            return adopted

    connection_map = ctx.connection_map()
    # Before the POST: after it, the next write must be the new id (see 2c).
    source_unchanged = bool(template.snapshot) and template_source_unchanged(
        client=ctx.client, version=template
    )
    ctx.save({"tag": tag, "clone_posted": True})
    try:
        manifest = ctx.client.clone_integration(
            template.source_integration_id,
            name=integration_name(
                template_name=template.name, tenant_name=tenant.name, tenant_uid=tenant.uid
            ),
            connection_map=connection_map,
            extra={"tag": tag},
        )
    except NotFoundError:
        raise StepFailed(
            "template_missing",
            f"The template integration {template.source_integration_id} of template "
            f"{template.key!r} does not exist in integrator.io.",
        ) from None
    ctx.commit_integration(manifest.integration_id)
    created: dict[str, int] = {}
    for item in manifest.items:
        created[item.model] = created.get(item.model, 0) + 1
    output = {
        "integration_id": manifest.integration_id,
        "how": "cloned",
        "tag": tag,
        "created": created,
        "copied_connection_ids": list(manifest.ids("Connection")),
    }
    if not template.snapshot:
        return output
    flows, problems = predicted_flows(
        snapshot=template.snapshot,
        manifest=[[item.model, item.id, item.name] for item in manifest.items],
        connection_map=connection_map,
    )
    if not source_unchanged:
        problems.append("the template integration no longer holds the version's snapshot")
    if problems:
        # Caught here, repaired by the reading path (wire, and reconcile against the snapshot).
        return {**output, "clone_problems": problems}
    return {**output, "predicted_flows": flows}


def _adopt(ctx: StepContext, *, tag: str, intents: set[str]) -> dict | None:
    """An earlier attempt posted a clone whose answer was lost: find it by its mark.

    Its tag, or its name when the clone did not keep the tag (the settings step sets it
    again). A clone marked the legacy way (before deployments had an identity) carries no
    deployment, so it is adopted only when exactly one matches; two mean another deployment
    made one with the same legacy tag, and a person must decide.
    """
    tenant = ctx.tenant
    marked, legacy = [], []
    for integration in ctx.client.list_integrations(include=["tag"]):
        mark = integration_mark(integration.raw)
        if mark is None or not mark_is_tenants(mark, tenant=tenant):
            continue
        if mark.is_legacy:
            if integration.raw.get("tag") in intents:
                legacy.append(integration.id)
        elif mark.template_key in (None, ctx.template.key):
            marked.append(integration.id)
    if len(legacy) > 1 and not marked:
        raise StepFailed(
            "ambiguous_legacy_clone",
            f"Several integrations carry this tenant's legacy tag ({', '.join(sorted(legacy))}); "
            "one may belong to another deployment. Delete or adopt the right one (orphans), "
            "then retry.",
        )
    matches = sorted(marked) or legacy
    if not matches:
        return None
    # ObjectIds grow with time: keep the oldest. More than one means a duplicate got made
    # despite everything; the sweeper reports the others as orphans.
    ctx.commit_integration(matches[0])
    return {"integration_id": matches[0], "how": "adopted", "tag": tag, "duplicates": matches[1:]}


def clone_intents(*, tenant_pk: int) -> set[str]:
    """The tags with which any job of the tenant ever recorded the intent to clone (a legacy
    one among them if the intent was recorded before deployments had an identity)."""
    # Filtered here rather than by JSON lookups in SQL: a tenant has a clone step per
    # provision, a handful, and the lookups cost more to build than the rows to read.
    outputs = clone_step_outputs(tenant_pk=tenant_pk)
    return {output.get("tag") for output in outputs if output.get("clone_posted") is True}


def wire(ctx: StepContext) -> dict:
    integration_id = integration_id_required(ctx)
    fresh = fresh_clone_flows(ctx)
    if fresh is not None:
        # The manifest matched the snapshot: nothing to read, nothing copied to delete.
        snapshot = ctx.template.snapshot
        return {
            "integration_id": integration_id,
            "flows": fresh,
            "exports": len(snapshot.get("exports") or []),
            "imports": len(snapshot.get("imports") or []),
            "rewired": [],
            "deleted_connections": [],
            "predicted": True,
        }
    expected = ctx.connection_map()
    tenant_connection_ids = set(expected.values())
    try:
        flows = ctx.client.list_integration_flows(integration_id)
        exports = ctx.client.list_integration_exports(integration_id)
        imports = ctx.client.list_integration_imports(integration_id)
    except NotFoundError:
        raise integration_gone(integration_id) from None

    rewired = []
    gone = []
    for kind, resources in (("export", exports), ("import", imports)):
        for resource in resources:
            current = resource.connection_id
            if not current or current in tenant_connection_ids:
                continue
            target = expected.get(current)
            if target is None:
                exists, source = _connection_source(ctx, current)
                if not exists:
                    # Deleted in integrator.io (the tenant's own connection, replaced since by
                    # a new one for its slot): the reconcile step that follows moves the step
                    # to the connection its slot has now, from the version's snapshot.
                    gone.append({"model": kind, "id": resource.id, "connection": current})
                    continue
                target = expected.get(source or "")
            if target is None:
                raise StepFailed(
                    "unmapped_connection",
                    f"The {kind} {resource.name!r} ({resource.id}) uses connection {current}, "
                    "which matches none of the template's slots. Add a slot for it to the "
                    "template, or fix the template integration.",
                )
            modify = ctx.client.modify_export if kind == "export" else ctx.client.modify_import
            try:
                modify(resource.id, lambda doc, target=target: doc.update(_connectionId=target))
            except ValidationError as error:
                raise StepFailed(
                    "rewire_refused", f"integrator.io refused to repoint the {kind}: {error}"
                ) from None
            rewired.append({"model": kind, "id": resource.id, "from": current, "to": target})

    clone_output = ctx.outputs.get("clone", {})
    if clone_output.get("how") == "cloned":
        copies = set(clone_output.get("copied_connection_ids", []))
    else:
        # Adopted or from an earlier job: what the clone copied is not known, so ask. A copy
        # has a template connection as its source; anything marked for someone else stays.
        copies = {
            c.id
            for c in ctx.client.list_integration_connections(integration_id)
            if c.id not in tenant_connection_ids
            and connection_may_delete(
                c.raw, tenant=ctx.tenant, own_ids=set(), template_ids=set(expected)
            )
        }
    deleted = []
    for connection_id in sorted(copies - tenant_connection_ids - set(expected)):
        with contextlib.suppress(NotFoundError):
            ctx.client.delete_connection(connection_id)
        deleted.append(connection_id)

    return {
        "integration_id": integration_id,
        "flows": [_flow_summary(flow) for flow in flows],
        "exports": len(exports),
        "imports": len(imports),
        "rewired": rewired,
        "on_gone_connections": gone,
        "deleted_connections": deleted,
    }


def _connection_source(ctx: StepContext, connection_id: str) -> tuple[bool, str | None]:
    """Whether the connection exists, and the template connection it was copied from
    (`_sourceId`), if any."""
    try:
        return True, ctx.client.get_connection(connection_id).raw.get("_sourceId")
    except NotFoundError:
        return False, None


def settings(ctx: StepContext) -> dict:
    integration_id = integration_id_required(ctx)
    effective = ctx.effective_settings(fresh=True)
    if fresh_clone_flows(ctx) is not None:
        return _settings_of_fresh_clone(ctx, integration_id, effective)
    try:
        integration = ctx.client.get_integration(integration_id)
    except NotFoundError:
        raise integration_gone(integration_id) from None
    integration_require_tenants(integration.raw, tenant=ctx.tenant)
    mapped = _mapped(ctx, effective)
    # With the marker of the version the integration is built to (provisioning.reconcile).
    merged = settings_with_marker(
        deep_merge(integration.settings, mapped.integration_settings), ctx.template.version
    )
    changed = _changed_paths(integration.settings, merged)
    # The integration's tag, read back: a clone may not keep the tag of its request, and a
    # legacy one is re-marked with this deployment's identity. Written with the settings.
    tag = integration_tag(tenant_uid=ctx.tenant.uid, template_key=ctx.template.key)
    retagged = integration.raw.get("tag") != tag
    if changed or retagged:
        try:
            ctx.client.update_integration(
                integration_id, {**integration.raw, "settings": merged, "tag": tag}
            )
        except ValidationError as error:
            raise StepFailed(
                "settings_refused", f"integrator.io refused the settings: {error}"
            ) from None
    return {
        "changed": changed,
        "written": bool(changed or retagged),
        "retagged": retagged,
        "digest": settings_digest(effective),
    }


def _settings_of_fresh_clone(ctx: StepContext, integration_id: str, effective: dict) -> dict:
    """The clone holds the snapshot's settings (nothing else wrote them yet): one PATCH sets
    the merged settings, with the version's marker, and the tag, which a clone may not keep.
    PATCH of an integration's `settings` and `tag` is an assumption (integrator.quirks).

    Side by side with it, the one read that tells how the clone is wired (the connections
    it uses): nothing after the clone changes that, the enable step switches no flow on
    unless it is right, and verify judges it without reading again."""
    held = settings_without_marker(ctx.template.snapshot["integration"].get("settings") or {})
    merged = settings_with_marker(
        deep_merge(held, _mapped(ctx, effective).integration_settings), ctx.template.version
    )
    tag = integration_tag(tenant_uid=ctx.tenant.uid, template_key=ctx.template.key)
    operations = [
        {"op": "add", "path": "/settings", "value": merged},
        {"op": "add", "path": "/tag", "value": tag},
    ]

    def write(client: IntegratorClient) -> None:
        try:
            client.patch_integration(integration_id, operations)
        except ValidationError as error:
            raise StepFailed(
                "settings_refused", f"integrator.io refused the settings: {error}"
            ) from None

    # A later round of this job (the settings changed while it ran) knows the wiring already.
    used = _wiring_read(ctx)
    calls = (
        [write]
        if used is not None
        else [write, functools.partial(_connections_used, integration_id)]
    )
    try:
        answers = ctx.client.side_by_side(calls)
    except NotFoundError:
        raise integration_gone(integration_id) from None
    return {
        "changed": _changed_paths(held, merged),
        "written": True,
        "retagged": True,
        "digest": settings_digest(effective),
        "connections_used": used if used is not None else answers[1],
    }


def _connections_used(integration_id: str, client: IntegratorClient) -> list[str]:
    return sorted({c.id for c in client.list_integration_connections(integration_id)})


def _wiring_read(ctx: StepContext) -> list[str] | None:
    """The connections the clone uses, as the settings step read them (None: not read)."""
    return (ctx.outputs.get("settings") or {}).get("connections_used")


def _wiring_problems(ctx: StepContext, used: list[str]) -> list[str]:
    """What is wrong with a fresh clone that uses the connections `used`: a step left on a
    connection that is not the tenant's (the template's own, say), or one of the tenant's
    that nothing uses."""
    own = set(ctx.connection_map().values())
    problems = []
    if foreign := sorted(set(used) - own):
        problems.append(f"it uses connections that are not the tenant's: {', '.join(foreign)}")
    if unused := sorted(own - set(used)):
        problems.append(f"it does not use the tenant's connections {', '.join(unused)}")
    return problems


def _miswired(problems: list[str], *, consequence: str) -> StepFailed:
    return StepFailed(
        "verification_failed",
        "The clone is not wired as intended: "
        + "; ".join(problems)
        + f".{consequence} Request a repair to put it right.",
    )


def enable(ctx: StepContext) -> dict:
    integration_id = integration_id_required(ctx)
    used = _wiring_read(ctx)
    if used is not None and (problems := _wiring_problems(ctx, used)):
        # Switched on, its flows would move data through someone else's connection.
        raise _miswired(problems, consequence=" Its flows were left off.")
    flows = ctx.outputs.get("wire", {}).get("flows")
    if flows is None:
        flows = _list_flows(ctx, integration_id)
    wanted = _flows_wanted(ctx, flows, ctx.effective_settings())
    writes, patched = [], []
    for flow in flows:
        fields, settings = _flow_differences(flow, wanted[flow["id"]])
        if flow.get("fresh"):
            # A fresh clone's `disabled` and timezone are not documented: set them anyway,
            # in the same PATCH as the schedule.
            fields = {
                name: wanted[flow["id"]][name]
                for name in ("schedule", "timezone", "disabled")
                if name in wanted[flow["id"]]
            }
        if fields or settings is not None:
            writes.append(functools.partial(_flow_write, flow, fields, settings))
            patched.append(flow["id"])
    # The flows are written side by side: each write stands alone, and a resumed job writes
    # again whichever did not take.
    ctx.client.side_by_side(writes)
    # No read back: a PATCH answered 204 took effect (verify reads, where anything is unknown).
    written = [_flow_written(flow, wanted[flow["id"]]) for flow in flows]
    return {"patched": patched, "flows": written, "read_back": False}


def _flow_write(flow: dict, fields: dict, settings: dict | None, client: IntegratorClient) -> None:
    try:
        if fields:
            client.patch_flow(flow["id"], _flow_patch(flow, fields))
        if settings is not None:
            client.modify_flow(flow["id"], lambda doc: doc.update(settings=settings))
    except NotFoundError:
        raise StepFailed(
            "flow_missing",
            f"The flow {flow['name']!r} ({flow['id']}) disappeared; request a repair.",
        ) from None
    except ValidationError as error:
        raise StepFailed(
            "flow_refused", f"integrator.io refused the flow {flow['name']!r}: {error}"
        ) from None


def _flow_written(flow: dict, wanted: dict) -> dict:
    """The flow summary as the writes of `enable` left it."""
    written = {**flow, **{k: v for k, v in wanted.items() if k != "settings"}}
    if "settings" in wanted:
        written["settings"] = deep_merge(flow.get("settings") or {}, wanted["settings"])
    return written


def verify(ctx: StepContext) -> dict:
    integration_id = integration_id_required(ctx)
    if fresh_clone_flows(ctx) is not None:
        return _verify_fresh_clone(ctx, integration_id)
    effective = ctx.effective_settings()
    try:
        integration = ctx.client.get_integration(integration_id)
    except NotFoundError:
        raise integration_gone(integration_id) from None
    enabled = ctx.outputs.get("enable", {})
    flows = enabled["flows"] if enabled.get("read_back") else _list_flows(ctx, integration_id)

    problems = []
    mapped = _mapped(ctx, effective).integration_settings
    differing = _changed_paths(integration.settings, deep_merge(integration.settings, mapped))
    if differing:
        problems.append(f"settings differ at {', '.join(differing)}")
    wanted = _flows_wanted(ctx, flows, effective)
    for flow in flows:
        problems += [
            f"flow {flow['name']!r} {problem}"
            for problem in _flow_problems(flow, wanted[flow["id"]])
        ]
    if not flows:
        problems.append("the integration has no flows")
    if problems:
        raise StepFailed(
            "verification_failed",
            "The integration does not match what was intended: " + "; ".join(problems) + ".",
        )
    return {
        "integration_id": integration_id,
        "flows": len(flows),
        "enabled": sorted(f["name"] for f in flows if not f["disabled"]),
        "observed_flows": _observed_flows(flows),
    }


def _verify_fresh_clone(ctx: StepContext, integration_id: str) -> dict:
    """Everything but the wiring is known (the manifest matched the snapshot, every write
    was answered), and the wiring was read with the settings (else it is read now): one read
    of the connections the integration uses catches a clone that left an export or import
    on a connection that is not the tenant's."""
    used = _wiring_read(ctx)
    if used is None:
        try:
            used = _connections_used(integration_id, ctx.client)
        except NotFoundError:
            raise integration_gone(integration_id) from None
    if problems := _wiring_problems(ctx, used):
        raise _miswired(problems, consequence="")
    flows = ctx.outputs.get("enable", {}).get("flows") or fresh_clone_flows(ctx) or []
    return {
        "integration_id": integration_id,
        "flows": len(flows),
        "enabled": sorted(f["name"] for f in flows if not f["disabled"]),
        "observed_flows": _observed_flows(flows),
        "connections": sorted(used),
    }


def _observed_flows(flows: list[dict]) -> list[list]:
    """The flows as the job leaves them, for the runs mirror (provisioning.signals): with each
    flow's template flow (`source_id`), which the integration page matches its switches by. A
    fresh clone's flows know it from the clone's answer matched to the snapshot."""
    return [[f["id"], f["name"], f["disabled"], f.get("source_id") or ""] for f in flows]


# --- shared by the steps ---------------------------------------------------------------------


def fresh_clone_flows(ctx: StepContext) -> list[dict] | None:
    """The flows of a clone made by this job whose manifest matched the version's snapshot
    (provisioning.clone_check), None when the clone must be read instead."""
    clone_output = ctx.outputs.get("clone") or {}
    if clone_output.get("how") != "cloned" or not ctx.template.snapshot:
        return None
    return clone_output.get("predicted_flows")


def integration_id_required(ctx: StepContext) -> str:
    if not ctx.tenant.integration_id:
        raise StepFailed(
            "no_integration",
            "The tenant has no integration in integrator.io yet; provision it first.",
        )
    return ctx.tenant.integration_id


def integration_gone(integration_id: str) -> StepFailed:
    return StepFailed(
        "integration_missing",
        f"The tenant's integration {integration_id} no longer exists in integrator.io; "
        "request a repair to clone it again.",
    )


def _list_flows(ctx: StepContext, integration_id: str) -> list[dict]:
    try:
        return [_flow_summary(f) for f in ctx.client.list_integration_flows(integration_id)]
    except NotFoundError:
        raise integration_gone(integration_id) from None


def _flow_summary(flow: Flow) -> dict:
    return {
        "id": flow.id,
        "name": flow.name,
        "source_id": flow.source_id,
        "disabled": flow.disabled,
        "schedule": flow.schedule,
        "timezone": flow.timezone,
        "settings": flow.raw.get("settings") or {},
    }


def _mapped(ctx: StepContext, effective: dict) -> MappedSettings:
    return settings_mapped(mapping=ctx.template.settings_mapping, settings=effective)


def _flows_wanted(ctx: StepContext, flows: list[dict], effective: dict) -> dict[str, dict]:
    """{flow id: {"disabled", and the "schedule", "timezone", "settings" the mapping sets}}."""
    disabled = flows_disabled_wanted(
        flows=flows, settings_schema=ctx.template.settings_schema, settings=effective
    )
    mapped = _mapped(ctx, effective)
    wanted = {}
    for flow in flows:
        fields = {"disabled": disabled[flow["id"]], **mapped.for_flow(flow.get("source_id"))}
        if "schedule" in fields:
            fields["timezone"] = timezone_for_schedule(
                wanted=fields.get("timezone"), flow=flow.get("timezone")
            )
        wanted[flow["id"]] = fields
    return wanted


def _flow_patch(flow: dict, fields: dict) -> list[dict]:
    """JSON Patch operations setting `fields` on `flow`. A clone has no `schedule` or
    `timezone` member at all, and RFC 6902 `replace` needs the member to exist: those are
    `add`ed (which, for a member that does exist, replaces it), always on a fresh clone, whose
    members were not read. The documented PATCH examples use `replace` only; that `add` is
    accepted is an assumption (docs/integrator-io.md)."""
    operations = []
    for name, value in fields.items():
        unknown = flow.get(name) is None or flow.get("fresh")
        op = "add" if name in ("schedule", "timezone") and unknown else "replace"
        operations.append({"op": op, "path": f"/{name}", "value": value})
    return operations


def _flow_differences(flow: dict, wanted: dict) -> tuple[dict, dict | None]:
    """(top-level fields to PATCH, the flow settings to write or None). Summaries stored by
    jobs from before schedules were managed lack those keys: they count as unset."""
    fields = {
        name: wanted[name]
        for name in ("schedule", "timezone")
        if name in wanted and flow.get(name) != wanted[name]
    }
    # `disabled` last, so that a flow is enabled together with (not before) its schedule.
    if flow["disabled"] != wanted["disabled"]:
        fields["disabled"] = wanted["disabled"]
    settings = None
    if "settings" in wanted:
        current = flow.get("settings") or {}
        merged = deep_merge(current, wanted["settings"])
        if merged != current:
            settings = merged
    return fields, settings


def _flow_problems(flow: dict, wanted: dict) -> list[str]:
    fields, settings = _flow_differences(flow, wanted)
    problems = []
    if "disabled" in fields:
        problems.append("is disabled" if flow["disabled"] else "is enabled")
    for name in ("schedule", "timezone"):
        if name in fields:
            problems.append(f"has {name} {flow.get(name)!r}, not {wanted[name]!r}")
    if settings is not None:
        problems.append("has other flow settings")
    return problems


def _changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths where `after` differs from `before` (names only: values stay out of logs)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in sorted(set(before) | set(after), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                paths.append(name)
            else:
                paths += _changed_paths(before[key], after[key], name)
        return paths
    return [] if before == after else [prefix or "(root)"]

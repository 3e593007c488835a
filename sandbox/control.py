"""The control plane under /_sandbox/ (its own bearer token; not part of the emulated API).

Tests and demos use it to reset and seed the account, tune settings, add latency and faults,
force the outcomes of flow runs and pings, move jobs on, and look at everything stored.
"""

from aiohttp import web

from sandbox import seed, seed_crm
from sandbox.exceptions import InvalidField, NotFound
from sandbox.models.bulk import bulk_count, flows_bulk_run, integrations_bulk_create
from sandbox.models.connection_rules import connection_render
from sandbox.models.documents import require_object
from sandbox.models.export_import_rules import resource_render
from sandbox.models.faults import fault_rule_from_json, latency_rule_from_json
from sandbox.models.iclient_rules import iclient_render
from sandbox.models.ping import forced_ping_from_json
from sandbox.models.store import MODELS
from sandbox.responses.bodies import json_response, read_json, sandbox_of
from sandbox.settings import SettingsError, runtime_settings

RENDERERS = {
    "connections": connection_render,
    "exports": lambda doc: resource_render("exports", doc),
    "imports": lambda doc: resource_render("imports", doc),
    "iclients": iclient_render,
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/_sandbox/reset", reset)
    router.add_post("/_sandbox/seed", seed_demo)
    router.add_post("/_sandbox/seed/crm", seed_crm_demo)
    router.add_post("/_sandbox/demo/template-version", set_template_version)
    router.add_post("/_sandbox/demo/crm/revoke-all", revoke_crm_grants)
    router.add_get("/_sandbox/config", get_config)
    router.add_patch("/_sandbox/config", patch_config)
    router.add_get("/_sandbox/objects", list_objects)
    router.add_get("/_sandbox/latency", list_latency)
    router.add_put("/_sandbox/latency", replace_latency)
    router.add_delete("/_sandbox/latency", clear_latency)
    router.add_get("/_sandbox/faults", list_faults)
    router.add_post("/_sandbox/faults", add_fault)
    router.add_delete("/_sandbox/faults", clear_faults)
    router.add_delete("/_sandbox/faults/{id}", delete_fault)
    router.add_post("/_sandbox/flows/{id}/outcomes", force_flow_outcomes)
    router.add_delete("/_sandbox/flows/{id}/outcomes", clear_flow_outcomes)
    router.add_put("/_sandbox/connections/{id}/ping-outcome", force_ping_outcome)
    router.add_delete("/_sandbox/connections/{id}/ping-outcome", clear_ping_outcome)
    router.add_post("/_sandbox/jobs/{id}/advance", advance_job)
    router.add_post("/_sandbox/bulk/integrations", bulk_integrations)
    router.add_post("/_sandbox/bulk/runs", bulk_runs)
    router.add_get("/_sandbox/requests", list_requests)
    router.add_delete("/_sandbox/requests", clear_requests)


async def reset(request: web.Request) -> web.Response:
    sandbox_of(request).reset()
    return json_response({"reset": True})


async def seed_crm_demo(request: web.Request) -> web.Response:
    """Seed the CRM -> ERP template integration (its OAuth 2 connection has no tokens)."""
    sandbox = sandbox_of(request)
    created = seed_crm.seed_crm_demo(sandbox.store, demo_base_url=sandbox.demo_base_url)
    return json_response({"created": created, **seed_crm.crm_seed_ids()})


async def revoke_crm_grants(request: web.Request) -> web.Response:
    """Revoke every grant of the demo OAuth provider, as a user who removes the app from
    their CRM account would: tokens stop working and refreshing them fails."""
    return json_response({"revoked": sandbox_of(request).crm.revoke_all()})


async def seed_demo(request: web.Request) -> web.Response:
    """Seed the demo template (as 1.0.0 where it is missing; an evolved one keeps its version).
    Versions are set by POST /_sandbox/demo/template-version."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    if "versions" in body:
        raise InvalidField(
            "The demo template is one integration that evolves: set its version with "
            'POST /_sandbox/demo/template-version {"version": "1.1.0"}.',
            field="versions",
        )
    created = seed.seed_demo(sandbox.store, demo_base_url=sandbox.demo_base_url)
    return json_response(
        {"created": created, "version": seed.template_version(sandbox.store), **seed.seed_ids()}
    )


async def set_template_version(request: web.Request) -> web.Response:
    """Body {"version": "1.1.0"}: evolve the demo template integration in place into that
    version (seeding it first if missing); {"version": "1.0.0"} takes it back. Idempotent."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    version = body.get("version")
    if version not in seed.DEMO_VERSIONS:
        raise InvalidField(
            f"version must be one of {', '.join(seed.DEMO_VERSIONS)}.", field="version"
        )
    changed = seed.template_version_set(sandbox.store, version, demo_base_url=sandbox.demo_base_url)
    return json_response(
        {"version": version, "changed": changed, **seed.seed_ids()["versions"][version]}
    )


async def get_config(request: web.Request) -> web.Response:
    return json_response(runtime_settings(sandbox_of(request).settings))


async def patch_config(request: web.Request) -> web.Response:
    """Change runtime settings, e.g. {"rate_limit_burst": 10, "job_run_seconds": 0.1}."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    unknown = set(body) - set(runtime_settings(sandbox.settings))
    if unknown:
        raise InvalidField(f"Unknown or fixed setting(s): {', '.join(sorted(unknown))}.")
    try:
        sandbox.configure(body)
    except SettingsError as exc:
        raise InvalidField(str(exc)) from None
    return json_response(runtime_settings(sandbox.settings))


async def list_objects(request: web.Request) -> web.Response:
    """Every stored object with counts; `?collection=flows` for one; `?reveal=true` unmasks."""
    sandbox = sandbox_of(request)
    sandbox.jobs.advance()
    wanted = request.query.get("collection")
    if wanted is not None and wanted not in MODELS:
        raise InvalidField(f"collection must be one of {', '.join(MODELS)}.", field="collection")
    reveal = request.query.get("reveal", "").lower() == "true"
    names = [wanted] if wanted else list(MODELS)
    objects = {}
    for name in names:
        render = (lambda doc: doc) if reveal else RENDERERS.get(name, lambda doc: doc)
        objects[name] = [render(doc) for doc in sandbox.store.values(name)]
    counts = {name: len(objects[name]) for name in names}
    return json_response({"counts": counts, "objects": objects})


async def list_latency(request: web.Request) -> web.Response:
    return json_response({"rules": [r.as_json() for r in sandbox_of(request).faults.latency]})


async def replace_latency(request: web.Request) -> web.Response:
    """Body {"rules": [{"path": "/v1/*", "method": "*", "fixedMs": 100, "jitterMs": 20}]}."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    rules = body.get("rules")
    if not isinstance(rules, list):
        raise InvalidField("rules must be an array.", field="rules")
    parsed = [latency_rule_from_json(require_object(rule, "Each rule")) for rule in rules]
    sandbox.faults.latency[:] = parsed
    return json_response({"rules": [r.as_json() for r in parsed]})


async def clear_latency(request: web.Request) -> web.Response:
    sandbox_of(request).faults.latency.clear()
    return web.Response(status=204)


async def list_faults(request: web.Request) -> web.Response:
    return json_response({"faults": [f.as_json() for f in sandbox_of(request).faults.faults]})


async def add_fault(request: web.Request) -> web.Response:
    """Body e.g. {"mode": "error", "status": 503, "path": "/v1/integrations/*/clone",
    "method": "POST", "probability": 1.0, "times": 1}; sandbox/models/faults.py has the modes."""
    sandbox = sandbox_of(request)
    rule = fault_rule_from_json(require_object(await read_json(request, default={})))
    sandbox.faults.faults.append(rule)
    return json_response(rule.as_json(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    sandbox_of(request).faults.faults.clear()
    return web.Response(status=204)


async def delete_fault(request: web.Request) -> web.Response:
    faults = sandbox_of(request).faults.faults
    for rule in faults:
        if rule.id == request.match_info["id"]:
            faults.remove(rule)
            return web.Response(status=204)
    raise NotFound("Fault rule not found.")


async def force_flow_outcomes(request: web.Request) -> web.Response:
    """Body {"outcomes": ["failed", "partial", {"status": "completed", "numRecords": 7}]}:
    the flow's next runs end that way, in order."""
    sandbox = sandbox_of(request)
    flow_id = sandbox.store.require("flows", request.match_info["id"])["_id"]
    body = require_object(await read_json(request, default={}))
    outcomes = body.get("outcomes")
    if not isinstance(outcomes, list):
        raise InvalidField("outcomes must be an array.", field="outcomes")
    queued = sandbox.jobs.force_outcomes(flow_id, outcomes)
    return json_response({"outcomes": queued})


async def clear_flow_outcomes(request: web.Request) -> web.Response:
    sandbox_of(request).jobs.forced.pop(request.match_info["id"], None)
    return web.Response(status=204)


async def force_ping_outcome(request: web.Request) -> web.Response:
    """Body {"ok": false, "code": 401, "message": "...", "times": 1}: the next pings of this
    connection answer that, without calling the target (`times` null: until cleared)."""
    sandbox = sandbox_of(request)
    connection_id = sandbox.store.require("connections", request.match_info["id"])["_id"]
    forced = forced_ping_from_json(require_object(await read_json(request, default={})))
    sandbox.ping_outcomes[connection_id] = forced
    return json_response(forced)


async def clear_ping_outcome(request: web.Request) -> web.Response:
    sandbox_of(request).ping_outcomes.pop(request.match_info["id"], None)
    return web.Response(status=204)


async def advance_job(request: web.Request) -> web.Response:
    """Body {"to": "next"} (one step, the default) or {"to": "end"}: move a job on now."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    to = body.get("to", "next")
    if to not in ("next", "end"):
        raise InvalidField('to must be "next" or "end".', field="to")
    return json_response(sandbox.jobs.move_on(request.match_info["id"], to=to))


async def bulk_integrations(request: web.Request) -> web.Response:
    """Body {"count": 50000, "namePrefix": "Bench"}: that many integrations, each with one
    flow; answers {"created": [{"_integrationId", "_flowId"}, ...]} in creation order."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    prefix = body.get("namePrefix", "Bulk")
    if not isinstance(prefix, str) or not prefix.strip():
        raise InvalidField("namePrefix must be a non-empty string.", field="namePrefix")
    made = integrations_bulk_create(sandbox.store, count=bulk_count(body), name_prefix=prefix)
    return json_response({"created": made}, status=201)


async def bulk_runs(request: web.Request) -> web.Response:
    """Body {"flowIds": [...]}: run each flow once now; answers {"jobIds": [...]}."""
    sandbox = sandbox_of(request)
    body = require_object(await read_json(request, default={}))
    job_ids = flows_bulk_run(sandbox.store, sandbox.jobs, body.get("flowIds"))
    return json_response({"jobIds": job_ids}, status=201)


async def list_requests(request: web.Request) -> web.Response:
    """The latest API and demo requests (method, path, query, status, dropped, fault, ms)."""
    return json_response({"requests": list(sandbox_of(request).journal)})


async def clear_requests(request: web.Request) -> web.Response:
    sandbox_of(request).journal.clear()
    return web.Response(status=204)

"""Control plane: many integrations, or many runs, in one request (benchmarks of thousands
of tenants would otherwise spend minutes on set-up calls).

What is made is exactly what the API would make one call at a time (an integration, a flow
in it with no steps, a run of a flow): the same documents, ids and jobs.
"""

from sandbox.exceptions import InvalidField
from sandbox.models.flow_rules import flow_with_defaults
from sandbox.models.job_engine import JobEngine
from sandbox.models.store import Store

MAX_BULK = 100_000


def bulk_count(body: dict) -> int:
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BULK:
        raise InvalidField(f"count must be an integer from 1 to {MAX_BULK}.", field="count")
    return count


def integrations_bulk_create(store: Store, *, count: int, name_prefix: str) -> list[dict]:
    """`count` integrations, each with one flow of its own: [{"_integrationId", "_flowId"}]."""
    made = []
    for number in range(count):
        integration = store.insert(
            "integrations", {"name": f"{name_prefix} {number}"[:100], "settings": {}}
        )
        flow = store.insert(
            "flows",
            flow_with_defaults(
                {"name": f"{name_prefix} {number} flow"[:100], "_integrationId": integration["_id"]}
            ),
        )
        made.append({"_integrationId": integration["_id"], "_flowId": flow["_id"]})
    return made


def flows_bulk_run(store: Store, jobs: JobEngine, flow_ids: object) -> list[str]:
    """Run each flow once (as `POST /flows/{id}/run` would); the new flow jobs' ids. Every id
    is checked before anything runs."""
    if not isinstance(flow_ids, list) or not 1 <= len(flow_ids) <= MAX_BULK:
        raise InvalidField(f"flowIds must be an array of 1 to {MAX_BULK} ids.", field="flowIds")
    flows = []
    for flow_id in flow_ids:
        flow = store.get("flows", flow_id) if isinstance(flow_id, str) else None
        if flow is None:
            raise InvalidField(f"No flow {flow_id!r}.", field="flowIds")
        flows.append(flow)
    return [jobs.run_flow(flow)["_id"] for flow in flows]

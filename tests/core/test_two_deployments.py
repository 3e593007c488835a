"""Two deployments of the service on one integrator.io account and one Redis: staging next to
production, two regions, a copy of a database. Each keeps to its own resources, tasks and keys.

Both are whole stacks (their own database, web server and worker; see tests/fixtures/stack.py)
driven over HTTP, with the same tag prefix and tenants with the same external ids.
"""

import re

import pytest
import redis
import requests
from django.conf import settings

from core.deployment import IDENTITY_PATTERN
from tests.fixtures.stack import ServiceStack

COLLECTIONS = ("integrations", "flows", "exports", "imports", "connections")


@pytest.fixture(scope="module")
def deployments(sandbox, tmp_path_factory, django_db_blocker):
    work_dir = tmp_path_factory.mktemp("deployments")
    stacks = []
    try:
        for name in ("a", "b"):
            stacks.append(ServiceStack(name, sandbox=sandbox, work_dir=work_dir).start())
        yield stacks
    finally:
        for stack in stacks:
            stack.stop()


@pytest.fixture
def account(sandbox, deployments):
    sandbox.control.reset()
    sandbox.control.seed()
    yield sandbox
    sandbox.control.clear_faults()


def snapshot(sandbox) -> dict[str, dict[str, str]]:
    """Every object in the account: {collection: {id: lastModified}}."""
    objects = sandbox.control.objects()["objects"]
    return {c: {doc["_id"]: doc["lastModified"] for doc in objects[c]} for c in COLLECTIONS}


def owned_by(sandbox, identity: str) -> dict[str, set[str]]:
    """The objects whose mark (or whose integration's mark) names the deployment."""
    objects = sandbox.control.objects()["objects"]
    integrations = {
        doc["_id"]
        for doc in objects["integrations"]
        if identity in (doc.get("tag") or "") or f"[{identity}/" in doc.get("name", "")
    }
    owned = {"integrations": integrations}
    for collection in ("flows", "exports", "imports"):
        owned[collection] = {
            doc["_id"] for doc in objects[collection] if doc.get("_integrationId") in integrations
        }
    owned["connections"] = {
        doc["_id"]
        for doc in objects["connections"]
        if identity in (doc.get("externalId") or "") or f"[{identity}/" in doc.get("name", "")
    }
    return owned


def untouched(before: dict, after: dict, ids: dict[str, set[str]]) -> list[str]:
    """Objects among `ids` that were deleted or changed between the snapshots."""
    problems = []
    for collection, wanted in ids.items():
        for object_id in wanted:
            if object_id not in after[collection]:
                problems.append(f"{collection} {object_id} deleted")
            elif after[collection][object_id] != before[collection][object_id]:
                problems.append(f"{collection} {object_id} changed")
    return problems


def test_it_gives_each_deployment_its_own_identity(deployments):
    a, b = deployments
    assert a.identity != b.identity
    assert requests.get(f"{a.base_url}/readyz", timeout=10).json()["deployment"] == a.identity


def created_since(earlier: dict, later: dict) -> dict[str, set[str]]:
    return {c: set(later[c]) - set(earlier[c]) for c in COLLECTIONS}


def test_it_never_adopts_changes_or_deletes_the_other_deployments_resources(account, deployments):
    a, b = deployments
    seeded = snapshot(account)
    for external_id in ("globex", "initech"):
        a.onboard(external_id)
        a.wait_for_status(external_id, "active")
    before = snapshot(account)
    a_made = created_since(seeded, before)
    assert len(a_made["integrations"]) == 2 and len(a_made["connections"]) == 4
    assert owned_by(account, a.identity) == a_made, "everything A made carries A's mark"

    # B's clone of the same external id is made, but its answer is lost: B must find its own
    # clone again, not A's, which is older and was made for a tenant with the same row id.
    account.control.inject_fault("commit_then_drop", path="/v1/integrations/*/clone", times=1)
    b.onboard("globex")
    b_globex = b.wait_for_status("globex", "active")
    b.onboard("initech")
    b.wait_for_status("initech", "active")
    assert b_globex["integration_id"] not in a_made["integrations"]
    repair = b.api("POST", "/api/v1/tenants/globex/repair")
    assert repair.status_code == 202, repair.text
    b.wait_for_status("globex", "active")
    assert b.api("DELETE", "/api/v1/tenants/globex/").status_code == 202
    b.wait_for_status("globex", "deprovisioned")

    after = snapshot(account)
    assert untouched(before, after, a_made) == []
    assert a.tenant("globex")["status"] == "active"
    b_made = created_since(before, after)
    assert len(b_made["integrations"]) == 1, "B's initech only: its globex is deprovisioned"
    assert owned_by(account, b.identity) == b_made

    # And the other way round: A repairs and deprovisions, B's initech stays as it was.
    assert a.api("POST", "/api/v1/tenants/initech/repair").status_code == 202
    a.wait_for_status("initech", "active")
    assert a.api("DELETE", "/api/v1/tenants/initech/").status_code == 202
    a.wait_for_status("initech", "deprovisioned")
    last = snapshot(account)
    assert untouched(after, last, b_made) == []
    assert len(owned_by(account, a.identity)["integrations"]) == 1  # A's globex


def test_it_keeps_each_deployments_tasks_and_keys_to_itself(account, deployments):
    """Both stacks use the same Redis database. B's worker is down while B queues a job: A's
    worker, listening on the same Redis, must leave it alone, so that B's own worker runs it
    when it is back (nothing else would: a stolen message is gone)."""
    a, b = deployments
    b.worker.stop()
    try:
        b.onboard("umbrella")
        job_id = b.tenant("umbrella")["current_job"]["id"]
        a.onboard("hooli")
        a.wait_for_status("hooli", "active")
        assert (
            b.tenant("umbrella")["status"] == "provisioning"
            or b.tenant("umbrella")["current_job"]["status"] == "queued"
        )
        assert job_id not in a.worker.log_path.read_text()
    finally:
        b.worker.start()
    b.wait_for_status("umbrella", "active")

    client = redis.Redis.from_url(settings.REDIS_URL)
    run_prefix = settings.REDIS_KEY_PREFIX
    namespaces = {
        key.decode()[len(run_prefix) :].split(":")[0] for key in client.scan_iter(f"{run_prefix}*")
    }
    assert {a.identity, b.identity} <= namespaces
    # Every key of this test run is under some deployment's namespace: none is shared.
    assert all(re.fullmatch(IDENTITY_PATTERN, namespace) for namespace in namespaces), namespaces

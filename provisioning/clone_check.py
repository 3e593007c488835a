"""What a fresh clone holds, known without reading it: the clone's answer (its manifest names
everything it created) checked against the template version's snapshot (what the template
integration held when the version was published, which is what a clone copies).

A provision that can trust this makes no read between the clone and its last step
(provisioning.steps.provision, "fast path"). It can when:

1. the template integration still holds the snapshot (`template_source_unchanged`, checked at
   most once a minute per version and process, not once per tenant: a template edited without
   publishing a new version would otherwise be copied unnoticed); and
2. the manifest matches the snapshot (`predicted_flows`): as many flows, with the snapshot's
   flow names (each name once, so that each new flow id is matched to its template flow), as
   many exports and imports, and no copied connection (every template connection was mapped).

Anything else (a clone that missed a flow, copied a connection, a template that moved on, a
version without a snapshot) takes the reading path, which observes the clone and repairs it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from provisioning.lease import FencedClient
from tenants.models import TemplateVersion
from tenants.services import template_snapshot_from, template_snapshot_reads
from tenants.services.template_snapshots import secrets_masked

# How long a check that the template integration still holds a version's snapshot is trusted
# (per process). Bounded staleness: a template edited without publishing reaches the tenants
# provisioned within this window as drift (provisioning.drift finds it), not as a failure.
TEMPLATE_CHECK_SECONDS = 60.0

# Fields the server sets on every write or run: they say nothing about content.
_VOLATILE_FIELDS = frozenset({"createdAt", "lastModified", "lastModifiedBy", "lastExecutedAt"})

_checked: dict[tuple[int, str], tuple[float, bool]] = {}
_check_lock = threading.Lock()


def template_source_unchanged(*, client: FencedClient, version: TemplateVersion) -> bool:
    """Whether the version's template integration still holds its snapshot: four reads (side
    by side) at most once per TEMPLATE_CHECK_SECONDS per version in this process (threads
    wait for the one check in progress rather than each making their own: the first jobs a
    worker takes all wait for it)."""
    key = (version.pk, version.digest)
    with _check_lock:
        known = _checked.get(key)
        if known is not None and time.monotonic() - known[0] < TEMPLATE_CHECK_SECONDS:
            return known[1]
        reads = template_snapshot_reads(version.source_integration_id)
        current = template_snapshot_from(*client.side_by_side(reads))
        same = snapshot_content(current) == snapshot_content(version.snapshot)
        _checked[key] = (time.monotonic(), same)
        return same


def template_checks_forget() -> None:
    """Forget every check (tests change the template integration between provisions)."""
    with _check_lock:
        _checked.clear()


def snapshot_content(snapshot: dict) -> dict[str, Any]:
    """A snapshot without what changes on its own (timestamps, the time it was taken), in a
    fixed order and with secrets masked, for comparing two snapshots of one integration."""
    integration = snapshot.get("integration") or {}
    content: dict[str, Any] = {
        "integration": secrets_masked(
            {key: integration.get(key) for key in ("_id", "name", "settings")}
        )
    }
    for part in ("flows", "exports", "imports"):
        docs = [
            {k: v for k, v in secrets_masked(doc).items() if k not in _VOLATILE_FIELDS}
            for doc in snapshot.get(part) or []
        ]
        content[part] = sorted(docs, key=lambda doc: str(doc.get("_id")))
    return content


def predicted_flows(
    *, snapshot: dict, manifest: list[list[str | None]], connection_map: dict[str, str]
) -> tuple[list[dict], list[str]]:
    """(the clone's flows as the snapshot says they are, problems). `manifest` is the clone's
    answer as [model, id, name] items. With problems, the flows are [] and the clone must be
    read. A flow is described like provision's flow summaries, marked `fresh`: its schedule is
    none (schedules are not copied, documented) and its `disabled` is written anyway (what a
    clone gives is not documented)."""
    by_model: dict[str, list[tuple[str, str | None]]] = {}
    for model, item_id, name in manifest:
        by_model.setdefault(str(model), []).append((str(item_id), name))
    problems = []
    flows = snapshot.get("flows") or []
    names = Counter(doc.get("name") for doc in flows)
    made = Counter(name for _, name in by_model.get("Flow", []))
    if made != names:
        missing = sorted(str(n) for n in (names - made).elements())
        extra = sorted(str(n) for n in (made - names).elements())
        problems.append(
            f"the clone's flows differ from the version's (missing: {', '.join(missing) or '-'};"
            f" unexpected: {', '.join(extra) or '-'})"
        )
    elif any(count > 1 for count in names.values()):
        problems.append("the version has flows of the same name: their clones are read")
    for model, part in (("Export", "exports"), ("Import", "imports")):
        expected = len(snapshot.get(part) or [])
        if len(by_model.get(model, [])) != expected:
            problems.append(
                f"the clone made {len(by_model.get(model, []))} {part}, the version has {expected}"
            )
    if by_model.get("Connection"):
        problems.append(f"the clone copied {len(by_model['Connection'])} connection(s)")
    used = {
        doc.get("_connectionId")
        for part in ("exports", "imports")
        for doc in snapshot.get(part) or []
        if doc.get("_connectionId")
    }
    if used - set(connection_map):
        problems.append("the version uses connections that no slot maps")
    if problems:
        return [], problems
    source = {doc.get("name"): doc for doc in flows}
    return [
        {
            "id": flow_id,
            "name": name,
            "source_id": source[name]["_id"],
            "disabled": bool(source[name].get("disabled", False)),
            "schedule": None,
            "timezone": source[name].get("timezone"),
            "settings": source[name].get("settings") or {},
            "fresh": True,
        }
        for flow_id, name in by_model.get("Flow", [])
    ], []

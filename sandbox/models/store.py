"""The sandbox's account: every object, kept in plain dicts, in creation order.

Documents are stored as the API would return them, except that secrets are kept in clear
(responses mask them). Job plans and job errors (EM 1.0) are internal and never served as
such; flow errors (EM 2.0) are kept per "{flowId}/{stepId}", open and resolved together.
"""

from collections.abc import Callable, Iterable, Mapping

from sandbox.exceptions import NotFound
from sandbox.models.object_ids import new_object_id
from sandbox.models.timestamps import now_iso

MODELS = {
    "connections": "Connection",
    "integrations": "Integration",
    "flows": "Flow",
    "exports": "Export",
    "imports": "Import",
    "jobs": "Job",
    "iclients": "iClient",
}
SNAPSHOT_VERSION = 1

# {collection: {index name: the keys a document is found under}}.
Indexes = Mapping[str, Mapping[str, Callable[[dict], Iterable[str]]]]


class Store:
    """`indexes` are kept on every insert, replace, delete, clear and restore, so that a
    lookup such as "the flows of this integration" costs what it finds, not the size of the
    account (a benchmark keeps thousands of tenants' clones in one store). Documents change
    only through those methods, never in place."""

    def __init__(self, indexes: Indexes | None = None) -> None:
        self.collections: dict[str, dict[str, dict]] = {name: {} for name in MODELS}
        self._index_keys = indexes or {}
        # {(collection, index name): {key: {document id: None}}} (dicts keep creation order).
        self._indexes: dict[tuple[str, str], dict[str, dict[str, None]]] = {
            (collection, name): {}
            for collection, named in self._index_keys.items()
            for name in named
        }
        self.job_plans: dict[str, dict] = {}
        # Retry jobs still running (settings.retry_run_seconds): their end, and the errors of
        # the records that fail again, which are open errors only once the job has ended.
        self.retry_plans: dict[str, dict] = {}
        self.job_errors: dict[str, list[dict]] = {}
        self.flow_errors: dict[str, list[dict]] = {}
        self.state_keys: dict[str, dict[str, object]] = {}
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in self._listeners:
            listener()

    def get(self, collection: str, object_id: str) -> dict | None:
        return self.collections[collection].get(object_id)

    def require(self, collection: str, object_id: str) -> dict:
        doc = self.collections[collection].get(object_id)
        if doc is None:
            raise NotFound.for_model(MODELS[collection])
        return doc

    def values(self, collection: str) -> list[dict]:
        return list(self.collections[collection].values())

    def found(self, collection: str, index: str, keys: Iterable[str]) -> list[dict]:
        """The documents of `collection` filed under any of `keys` in `index`, each once, in
        creation order within a key."""
        entries = self._indexes[(collection, index)]
        ids: dict[str, None] = {}
        for key in keys:
            ids.update(entries.get(key, {}))
        docs = self.collections[collection]
        return [docs[i] for i in ids if i in docs]

    def _file(self, collection: str, doc: dict) -> None:
        for name, keys in self._index_keys.get(collection, {}).items():
            entries = self._indexes[(collection, name)]
            for key in keys(doc):
                entries.setdefault(key, {})[doc["_id"]] = None

    def _unfile(self, collection: str, doc: dict) -> None:
        for name, keys in self._index_keys.get(collection, {}).items():
            entries = self._indexes[(collection, name)]
            for key in keys(doc):
                ids = entries.get(key)
                if ids is not None:
                    ids.pop(doc["_id"], None)
                    if not ids:
                        del entries[key]

    def _refile(self) -> None:
        for entries in self._indexes.values():
            entries.clear()
        for collection, docs in self.collections.items():
            for doc in docs.values():
                self._file(collection, doc)

    def insert(self, collection: str, fields: dict, *, object_id: str | None = None) -> dict:
        now = now_iso()
        doc = {"_id": object_id or new_object_id(), **fields}
        doc.setdefault("createdAt", now)
        doc["lastModified"] = now
        self.collections[collection][doc["_id"]] = doc
        self._file(collection, doc)
        self.changed()
        return doc

    def replace(self, collection: str, object_id: str, fields: dict) -> dict:
        current = self.require(collection, object_id)
        doc = {"_id": object_id, **fields}
        doc["createdAt"] = current.get("createdAt", now_iso())
        doc["lastModified"] = now_iso()
        self._unfile(collection, current)
        self.collections[collection][object_id] = doc
        self._file(collection, doc)
        self.changed()
        return doc

    def delete(self, collection: str, object_id: str) -> None:
        self._unfile(collection, self.require(collection, object_id))
        del self.collections[collection][object_id]
        self.changed()

    def counts(self) -> dict[str, int]:
        return {name: len(docs) for name, docs in self.collections.items()}

    def clear(self) -> None:
        for docs in self.collections.values():
            docs.clear()
        self._refile()
        self.job_plans.clear()
        self.retry_plans.clear()
        self.job_errors.clear()
        self.flow_errors.clear()
        self.state_keys.clear()
        self.changed()

    def snapshot(self) -> dict:
        return {
            "version": SNAPSHOT_VERSION,
            "collections": {name: list(docs.values()) for name, docs in self.collections.items()},
            "jobPlans": self.job_plans,
            "retryPlans": self.retry_plans,
            "jobErrors": self.job_errors,
            "flowErrors": self.flow_errors,
            "stateKeys": self.state_keys,
        }

    def restore(self, snapshot: dict) -> None:
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported state file version {snapshot.get('version')!r}")
        for name in MODELS:
            docs = snapshot.get("collections", {}).get(name, [])
            self.collections[name] = {doc["_id"]: doc for doc in docs}
        self._refile()
        self.job_plans = dict(snapshot.get("jobPlans", {}))
        self.retry_plans = dict(snapshot.get("retryPlans", {}))
        self.job_errors = dict(snapshot.get("jobErrors", {}))
        self.flow_errors = dict(snapshot.get("flowErrors", {}))
        self.state_keys = dict(snapshot.get("stateKeys", {}))

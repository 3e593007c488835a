"""Keeps every account's store in a JSON file so that it survives a restart (not used with
--memory), and beside the stores, each named part given (the demo OAuth provider's grants,
under `demoCrm`): what a demo app holds must survive with what points at it, or the tenants'
connections would be broken by a restart.

Writes are debounced: a change schedules one save a moment later, so a burst of writes costs
one file write. The file is replaced atomically, and saved once more on shutdown.
"""

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sandbox.models.accounts import Accounts

logger = logging.getLogger("sandbox.state")

SAVE_DELAY_SECONDS = 0.5


class Kept(Protocol):
    def snapshot(self) -> dict: ...
    def restore(self, snapshot: dict) -> None: ...
    def on_change(self, listener: Callable[[], None]) -> None: ...


class StateFile:
    def __init__(self, path: Path, store: Accounts, parts: dict[str, Kept] | None = None) -> None:
        self.path = path
        self.store = store
        self.parts = parts or {}
        self._pending: asyncio.TimerHandle | None = None
        self._dirty = False

    def load(self) -> bool:
        """Fill the store from the file; False if there is no file yet."""
        if not self.path.exists():
            return False
        with self.path.open(encoding="utf-8") as handle:
            snapshot = json.load(handle)
        self.store.restore(snapshot)
        # A file written before a part was kept has none of it: the part starts empty.
        for name, part in self.parts.items():
            part.restore(snapshot.get(name, {}))
        return True

    def attach(self) -> None:
        self.store.on_change(self._schedule)
        for part in self.parts.values():
            part.on_change(self._schedule)

    def _schedule(self) -> None:
        self._dirty = True
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pending = loop.call_later(SAVE_DELAY_SECONDS, self._save_scheduled)

    def _save_scheduled(self) -> None:
        self._pending = None
        self.save()

    def save(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if not self._dirty and self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                snapshot = self.store.snapshot()
                snapshot.update({name: part.snapshot() for name, part in self.parts.items()})
                json.dump(snapshot, handle, separators=(",", ":"))
            os.replace(temporary, self.path)
            self._dirty = False
        except OSError:
            logger.exception("could not save the sandbox state to %s", self.path)

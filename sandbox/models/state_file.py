"""Keeps every account's store in a JSON file so that it survives a restart (not used with
--memory).

Writes are debounced: a change schedules one save a moment later, so a burst of writes costs
one file write. The file is replaced atomically, and saved once more on shutdown.
"""

import asyncio
import json
import logging
import os
from pathlib import Path

from sandbox.models.accounts import Accounts

logger = logging.getLogger("sandbox.state")

SAVE_DELAY_SECONDS = 0.5


class StateFile:
    def __init__(self, path: Path, store: Accounts) -> None:
        self.path = path
        self.store = store
        self._pending: asyncio.TimerHandle | None = None
        self._dirty = False

    def load(self) -> bool:
        """Fill the store from the file; False if there is no file yet."""
        if not self.path.exists():
            return False
        with self.path.open(encoding="utf-8") as handle:
            self.store.restore(json.load(handle))
        return True

    def attach(self) -> None:
        self.store.on_change(self._schedule)

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
                json.dump(self.store.snapshot(), handle, separators=(",", ":"))
            os.replace(temporary, self.path)
            self._dirty = False
        except OSError:
            logger.exception("could not save the sandbox state to %s", self.path)

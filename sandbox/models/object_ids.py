"""24-hex object ids shaped like MongoDB ObjectIds (time, random, counter), as the API uses."""

import itertools
import os
import re
import time

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_PROCESS_RANDOM = os.urandom(5).hex()
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))


def new_object_id() -> str:
    return f"{int(time.time()):08x}{_PROCESS_RANDOM}{next(_COUNTER) % 0xFFFFFF:06x}"


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and _OBJECT_ID.match(value) is not None


def new_api_identifier(prefix: str, length: int) -> str:
    """Exports get e.g. "e53ec313", imports "ib8f75411f4" (a letter, then hex)."""
    return prefix + os.urandom(length).hex()[: length - 1]

"""A short fingerprint of effective settings: the settings step records the one it applied,
and a job re-applies settings when the tenant's no longer match it."""

import hashlib
import json


def settings_digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

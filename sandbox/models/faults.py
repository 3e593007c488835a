"""Latency and fault rules of the control plane, matched per path pattern and method.

Patterns are shell-style globs on the request path (`/v1/integrations/*/clone`, `/v1/*`).
A fault rule has a mode:
- `error`: answer `status` (500, 502, 503 or 504: the platform failing; or 400, 403, 409 or
  422: a refusal no retry fixes) with the error envelope, before doing anything;
- `hang`: hold the request for `hangSeconds` (past any client timeout), then close it unanswered;
- `rate_limit`: answer 429 with `Retry-After` (a "429 storm" when the probability is high);
- `drop`: close the connection before doing anything;
- `commit_then_drop`: perform the request (the write happens), then close the connection
  without answering.
Each rule fires with `probability` and, when `times` is set, only that many times.
"""

import dataclasses
import fnmatch
import random
import re

from sandbox.exceptions import InvalidField
from sandbox.models.object_ids import new_object_id

FAULT_MODES = ("error", "hang", "rate_limit", "drop", "commit_then_drop")
ERROR_STATUSES = (400, 403, 409, 422, 500, 502, 503, 504)


@dataclasses.dataclass
class LatencyRule:
    path: str = "*"
    method: str = "*"
    fixed_ms: float = 0.0
    jitter_ms: float = 0.0

    def delay_seconds(self) -> float:
        return (self.fixed_ms + random.uniform(0, self.jitter_ms)) / 1000

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "method": self.method,
            "fixedMs": self.fixed_ms,
            "jitterMs": self.jitter_ms,
        }


@dataclasses.dataclass
class FaultRule:
    mode: str
    path: str = "*"
    method: str = "*"
    status: int = 503
    probability: float = 1.0
    times: int | None = None
    hang_seconds: float | None = None
    retry_after: int = 2
    id: str = dataclasses.field(default_factory=new_object_id)
    fired: int = 0

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "mode": self.mode,
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "probability": self.probability,
            "times": self.times,
            "hangSeconds": self.hang_seconds,
            "retryAfter": self.retry_after,
            "fired": self.fired,
        }


class FaultBook:
    def __init__(self) -> None:
        self.latency: list[LatencyRule] = []
        self.faults: list[FaultRule] = []
        self._patterns: dict[str, re.Pattern] = {}

    def clear(self) -> None:
        self.latency.clear()
        self.faults.clear()

    def delay_for(self, method: str, path: str) -> float:
        for rule in self.latency:
            if self._matches(rule.path, rule.method, method, path):
                return rule.delay_seconds()
        return 0.0

    def fault_for(self, method: str, path: str) -> FaultRule | None:
        """The first rule that matches and fires, counting it."""
        for rule in self.faults:
            if rule.times is not None and rule.fired >= rule.times:
                continue
            if not self._matches(rule.path, rule.method, method, path):
                continue
            if rule.probability < 1 and random.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None

    def _matches(self, pattern: str, rule_method: str, method: str, path: str) -> bool:
        if rule_method != "*" and method not in rule_method.upper().split(","):
            return False
        compiled = self._patterns.get(pattern)
        if compiled is None:
            compiled = self._patterns[pattern] = re.compile(fnmatch.translate(pattern))
        return compiled.match(path) is not None


def latency_rule_from_json(body: dict) -> LatencyRule:
    return LatencyRule(
        path=_text(body, "path", "*"),
        method=_text(body, "method", "*").upper(),
        fixed_ms=_number(body, "fixedMs", 0.0, minimum=0),
        jitter_ms=_number(body, "jitterMs", 0.0, minimum=0),
    )


def fault_rule_from_json(body: dict) -> FaultRule:
    mode = body.get("mode")
    if mode not in FAULT_MODES:
        raise InvalidField(f"mode must be one of {', '.join(FAULT_MODES)}.", field="mode")
    status = int(_number(body, "status", 503, minimum=400))
    if mode == "error" and status not in ERROR_STATUSES:
        raise InvalidField(
            "status must be one of " + ", ".join(map(str, ERROR_STATUSES)) + ".", field="status"
        )
    probability = _number(body, "probability", 1.0, minimum=0)
    if probability > 1:
        raise InvalidField("probability must be between 0 and 1.", field="probability")
    times = body.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise InvalidField("times must be a positive integer or null.", field="times")
    hang = body.get("hangSeconds")
    return FaultRule(
        mode=mode,
        path=_text(body, "path", "*"),
        method=_text(body, "method", "*").upper(),
        status=status,
        probability=probability,
        times=times,
        hang_seconds=None if hang is None else _number(body, "hangSeconds", 0, minimum=0),
        retry_after=int(_number(body, "retryAfter", 2, minimum=1)),
    )


def _text(body: dict, name: str, default: str) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value:
        raise InvalidField(f"{name} must be a non-empty string.", field=name)
    return value


def _number(body: dict, name: str, default: float, *, minimum: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise InvalidField(f"{name} must be a number >= {minimum}.", field=name)
    return float(value)

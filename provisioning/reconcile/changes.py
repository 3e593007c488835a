"""The changes a plan is made of: one remote operation each, with words for an operator.

Every change carries a `reason` (why, in plain words) and a `diff` (the fields it changes,
before and after) that are safe to show and log: values under a secret-looking name are
masked (so are a header's value and a URI's query parameter with such a name), and
integrator.io's own mask "******" stays as it is. The values a change writes
(`values`, `connection_map`) may hold real secrets, so they are left out of `repr`.

Targets: a change names what it acts on by id when the resource exists when the plan is
made, and by `source_id` (the template flow, or the template flow and step) when an earlier
change of the same plan creates it (`AddFlow`); `flow_id` / `step_id` is then None and apply
finds the resource by its `_sourceId` when it gets there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from provisioning.reconcile.state import Json, StepKind

MASK = "******"
# The "before" of a field of a resource that an earlier change of the plan creates: what the
# clone gives it is not known until apply reads it back.
NOT_YET_CREATED = "<not yet created>"

# Names that hold a secret, compared without case, "_" or "-" (so apiKey = api_key = API-KEY).
# Masking too much only hides a value from a reader; masking too little leaks a credential.
_SECRET_NAMES = frozenset({"key", "pfx", "sig", "signature", "authkey", "consumerkey", "certid"})
_SECRET_NAME_PARTS = (
    "password",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "credential",
    "authorization",
)


def is_secret_name(name: str) -> bool:
    folded = name.lower().replace("_", "").replace("-", "")
    return folded in _SECRET_NAMES or any(part in folded for part in _SECRET_NAME_PARTS)


def masked(value: Json, *, name: str = "") -> Json:
    """A copy of `value` with whatever sits under a secret-looking name, at any depth, as
    "******" (a whole object or list under such a name too): a document as integrator.io
    reads it back."""
    if name and is_secret_name(name) and value is not None:
        return MASK
    if isinstance(value, Mapping):
        return {key: masked(item, name=str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    return value


# A query parameter in a URI: its name and its value, up to the next "&" or "#".
_QUERY_PARAMETER = re.compile(r"(?<=[?&])([^=&#]+)=([^&#]*)")


def shown(value: Json, *, name: str = "") -> Json:
    """A copy of `value` fit to show: `masked`, and more, since integrator.io returns in clear
    what only its shape says is a credential: the value of a name/value pair with a
    secret-looking name (an HTTP export's or import's `headers`: {"name": "Authorization",
    "value": "Bearer ..."}) and of such a query parameter in a URI (`relativeURI:
    /orders?api_key=...`). Only values are masked; the rest reads as it is."""
    if name and is_secret_name(name) and value is not None:
        return MASK
    if isinstance(value, Mapping):
        pair_name = value.get("name")
        secret_pair = isinstance(pair_name, str) and is_secret_name(pair_name)
        return {
            key: MASK
            if secret_pair and key == "value" and item is not None
            else shown(item, name=str(key))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [shown(item) for item in value]
    if isinstance(value, str) and name.lower().endswith(("uri", "url")):
        return _QUERY_PARAMETER.sub(_parameter_shown, value)
    return value


def _parameter_shown(match: re.Match) -> str:
    return f"{match[1]}={MASK}" if is_secret_name(match[1]) else match[0]


@dataclass(frozen=True)
class FieldChange:
    """One field a change writes; build it with `field_change`, which masks."""

    field: str
    before: Json
    after: Json


def field_change(name: str, before: Json, after: Json) -> FieldChange:
    return FieldChange(name, shown(before, name=name), shown(after, name=name))


@dataclass(frozen=True, kw_only=True)
class Described:
    """What every change carries for the operator: why, and the fields it changes (masked)."""

    reason: str
    diff: tuple[FieldChange, ...]

    def summary(self) -> dict:
        """What an operator reads about the change: its kind, why, and the fields (masked)."""
        return {
            "change": type(self).__name__,
            "reason": self.reason,
            "diff": [[c.field, c.before, c.after] for c in self.diff],
        }


@dataclass(frozen=True, kw_only=True)
class CloneIntegration(Described):
    """`POST /integrations/{source_integration_id}/clone` with name, tag and connection map:
    the tenant has no integration. It copies the source's flows, exports and imports."""

    source_integration_id: str
    name: str
    tag: str
    connection_map: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class AddFlow(Described):
    """`POST /flows/{flow_source_id}/clone` with `_integrationId`, name and connection map:
    creates the flow and its exports and imports (each with `_sourceId`) in the tenant's
    integration. The whole map is sent: the planner does not know which template connections
    the flow's steps use (the clone ignores entries it does not need)."""

    flow_source_id: str
    integration_id: str
    name: str
    connection_map: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class DeleteFlow(Described):
    """`DELETE /flows/{flow_id}`, then each of `step_ids` (the exports and imports no flow that
    stays uses): a deleted flow's steps would otherwise be left behind."""

    flow_id: str
    flow_source_id: str | None
    step_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DeleteStep(Described):
    """`DELETE /exports/{step_id}` or `DELETE /imports/{step_id}`: a copy of a step of one of
    the version's flows that no flow of the integration uses, such as the steps of a flow
    deleted outside the service (a flow clone copies its steps afresh, so the old ones stay
    behind when it is cloned again)."""

    step_id: str
    step_source_id: str
    kind: StepKind


@dataclass(frozen=True, kw_only=True)
class UpdateStep(Described):
    """Set the managed fields in `values` on an export or import (a PUT of its document with
    them changed: a PUT replaces the whole document)."""

    flow_source_id: str
    step_source_id: str
    step_id: str | None
    kind: StepKind
    values: Mapping[str, Json] = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class ReplaceConnection(Described):
    """integrator.io's `replaceConnection` action on an export or import: point it at
    `connection_id` instead of `previous_connection_id`. Only for steps that exist when the
    plan is made: an added flow's steps get their connection from the clone's map."""

    flow_source_id: str
    step_source_id: str
    step_id: str
    kind: StepKind
    previous_connection_id: str | None
    connection_id: str


@dataclass(frozen=True, kw_only=True)
class UpdateFlow(Described):
    """Set `values` (some of name, schedule, timezone, disabled, settings) on a flow."""

    flow_source_id: str
    flow_id: str | None
    values: Mapping[str, Json] = field(repr=False)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(sorted(self.values))

    @property
    def enables(self) -> bool:
        return self.values.get("disabled") is False


@dataclass(frozen=True, kw_only=True)
class UpdateIntegration(Described):
    """Set `values` (some of settings, tag, name, applied_version) on the integration.

    `applied_version` is the marker "this version is applied": a plan puts this change last,
    so apply writes the marker only after every other change of the plan has succeeded."""

    integration_id: str
    values: Mapping[str, Json] = field(repr=False)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(sorted(self.values))


Change = (
    CloneIntegration
    | AddFlow
    | DeleteFlow
    | DeleteStep
    | UpdateStep
    | ReplaceConnection
    | UpdateFlow
    | UpdateIntegration
)

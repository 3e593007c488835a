"""What a tenant's integration should be (DesiredState) and what integrator.io holds
(ObservedState). Plain frozen data: the planner compares them without I/O.

Resources are matched across the two by `source_id`: the template version's flow, export or
import each tenant resource was cloned from (integrator.io's `_sourceId` on clones).
Documents are kept whole (`doc`) where a change must write a whole document back (a PUT
replaces everything), with secrets as integrator.io shows them ("******").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

StepKind = Literal["export", "import"]
Json = Any


@dataclass(frozen=True)
class FlowSpec:
    """A flow as the version and the tenant's settings want it."""

    source_id: str
    name: str
    disabled: bool
    schedule: str | None
    timezone: str | None
    settings: Mapping[str, Json]
    # The template steps it runs, in order (exports then imports as the flow lists them).
    step_source_ids: tuple[str, ...]


@dataclass(frozen=True)
class StepSpec:
    """An export or import as the version wants it: its managed fields (every field of the
    snapshot's document that is not the server's or a link), the settings mapped into it
    applied, and the tenant connection it must use."""

    source_id: str
    kind: StepKind
    name: str
    connection_id: str | None
    fields: Mapping[str, Json]


@dataclass(frozen=True)
class DesiredState:
    template_key: str
    version: str
    source_integration_id: str
    tag: str
    name: str
    settings: Mapping[str, Json]
    flows: tuple[FlowSpec, ...]
    steps: tuple[StepSpec, ...]
    # Template connection id -> the tenant's connection id, for clones.
    connection_map: Mapping[str, str]


@dataclass(frozen=True)
class ObservedFlow:
    id: str
    source_id: str | None
    name: str
    disabled: bool
    schedule: str | None
    timezone: str | None
    settings: Mapping[str, Json]
    step_ids: tuple[str, ...]
    doc: Mapping[str, Json] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ObservedStep:
    id: str
    source_id: str | None
    kind: StepKind
    name: str
    connection_id: str | None
    doc: Mapping[str, Json] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ObservedState:
    """`integration_id` None: the tenant has no integration (or it is gone)."""

    integration_id: str | None
    tag: str | None = None
    name: str = ""
    settings: Mapping[str, Json] = field(default_factory=dict)
    flows: tuple[ObservedFlow, ...] = ()
    steps: tuple[ObservedStep, ...] = ()
    doc: Mapping[str, Json] = field(default_factory=dict, compare=False, repr=False)

    @property
    def exists(self) -> bool:
        return self.integration_id is not None

"""What a tenant's integration should be (DesiredState) and what integrator.io holds
(ObservedState). Plain frozen data: the planner compares them without I/O.

The same ObservedState also describes a template version's source integration (what a clone
copies), for the model in `simulate`: there ids are the template's and `source_id` is unused.

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
    """The tenant's integration as its template version and settings want it.

    Flows and steps are keyed by `source_id`, so each may appear once; every step a flow
    lists must be described. A state that breaks this is a bug of whoever built it, and is
    refused here rather than planned from.
    """

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

    def __post_init__(self) -> None:
        flow_ids = [flow.source_id for flow in self.flows]
        step_ids = [step.source_id for step in self.steps]
        if len(set(flow_ids)) != len(flow_ids) or len(set(step_ids)) != len(step_ids):
            raise ValueError("a desired state names each template flow and step once")
        missing = {i for flow in self.flows for i in flow.step_source_ids} - set(step_ids)
        if missing:
            raise ValueError(f"flows use steps the desired state does not describe: {missing}")


@dataclass(frozen=True)
class ObservedFlow:
    """A flow of the tenant's integration; `source_id` None: made by hand there."""

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
    """An export or import; the planner compares a version's managed fields with `doc`."""

    id: str
    source_id: str | None
    kind: StepKind
    name: str
    connection_id: str | None
    doc: Mapping[str, Json] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ObservedState:
    """`integration_id` None: the tenant has no integration (or it is gone).

    `applied_version` is the marker the last complete apply left on the integration (see
    `changes.UpdateIntegration`); None when there is none, e.g. right after a clone.
    """

    integration_id: str | None
    tag: str | None = None
    name: str = ""
    settings: Mapping[str, Json] = field(default_factory=dict)
    applied_version: str | None = None
    flows: tuple[ObservedFlow, ...] = ()
    steps: tuple[ObservedStep, ...] = ()
    doc: Mapping[str, Json] = field(default_factory=dict, compare=False, repr=False)

    @property
    def exists(self) -> bool:
        return self.integration_id is not None

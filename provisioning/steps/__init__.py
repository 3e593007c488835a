"""The steps of each kind of job, in order (see provision.py and deprovision.py)."""

from collections.abc import Callable

from provisioning.models import JobKind
from provisioning.steps import deprovision, provision, reconcile
from provisioning.steps.context import StepContext, Stop

Step = Callable[[StepContext], dict | Stop]

STEPS: dict[str, Step] = {
    "connections": provision.connections,
    "clone": provision.clone,
    "wire": provision.wire,
    "settings": provision.settings,
    "enable": provision.enable,
    "verify": provision.verify,
    "disable_flows": deprovision.disable_flows,
    "delete_flows": deprovision.delete_flows,
    "delete_exports": deprovision.delete_exports,
    "delete_imports": deprovision.delete_imports,
    "delete_integration": deprovision.delete_integration,
    "delete_connections": deprovision.delete_connections,
    "reconcile": reconcile.reconcile,
}

_FULL = ("connections", "clone", "wire", "settings", "enable", "verify")
PLANS: dict[str, tuple[str, ...]] = {
    JobKind.PROVISION: _FULL,
    # A repair also reconciles to the version's snapshot: what changed by hand (a step's
    # fields, its connection, a deleted flow) is put back.
    JobKind.REPAIR: ("connections", "clone", "wire", "settings", "enable", "reconcile", "verify"),
    JobKind.UPDATE_SETTINGS: ("settings", "enable", "verify"),
    JobKind.UPGRADE: ("connections", "reconcile"),
    JobKind.DEPROVISION: (
        "disable_flows",
        "delete_flows",
        "delete_exports",
        "delete_imports",
        "delete_integration",
        "delete_connections",
    ),
}

__all__ = ["PLANS", "STEPS", "Step", "StepContext", "Stop"]

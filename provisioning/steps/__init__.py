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

# After the clone is wired, configured and enabled, `reconcile` makes it exactly the tenant's
# version (a clone copies the template integration as it is now, which may have moved on
# since the version was published) and, in a repair, puts back what was changed by hand.
_FULL = ("connections", "clone", "wire", "settings", "enable", "reconcile", "verify")
PLANS: dict[str, tuple[str, ...]] = {
    JobKind.PROVISION: _FULL,
    JobKind.REPAIR: _FULL,
    JobKind.UPDATE_SETTINGS: ("settings", "enable", "reconcile", "verify"),
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

"""A new deployment identity in the audit log (`manage.py deployment_rekey`).

The deployment's row is core's, below the audit log: core announces a rekey with
`core.signals.deployment_rekeyed`, inside the rekey's transaction. From then on the deployment
disowns what the old identity marks in integrator.io, so the log says who did it and when.
"""

from audit.services import audit_record
from core.signals import deployment_rekeyed


def _rekeyed(sender, deployment, old: str, new: str, **kwargs) -> None:
    audit_record(
        action="deployment.rekey",
        target=deployment,
        before={"identity": old},
        after={"identity": new},
    )


def deployment_receivers_connect() -> None:
    deployment_rekeyed.connect(_rekeyed, dispatch_uid="audit-deployment-rekeyed")

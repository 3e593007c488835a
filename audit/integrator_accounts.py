"""integrator.io accounts in the audit log: added, changed (a new token included), deleted.

The accounts belong to `core`, which sits below the audit log and cannot call it: core
announces a save with `core.signals.integrator_account_saved` (from core.accounts, the one
service the admin and `manage.py integrator_account` share), and a delete is the admin's alone
(the model's post_delete). The token shows only as masked, and as changed when replaced.
"""

from django.db.models.signals import post_delete

from audit.services import audit_record
from core.models import IntegratorAccount
from core.signals import integrator_account_saved


def _saved(sender, account, created, before, after, **kwargs) -> None:
    if not created and before == after:
        return  # saved again as it was (a command re-run with --keep-token): nothing changed
    audit_record(
        action="integrator_account.create" if created else "integrator_account.update",
        target=account,
        before=before,
        after=after,
    )


def _deleted(sender, instance: IntegratorAccount, **kwargs) -> None:
    audit_record(
        action="integrator_account.delete",
        target=instance,
        before={"key": instance.key, "name": instance.name, "region": instance.region},
    )


def integrator_account_receivers_connect() -> None:
    integrator_account_saved.connect(_saved, dispatch_uid="audit-integrator-account-saved")
    post_delete.connect(
        _deleted, sender=IntegratorAccount, dispatch_uid="audit-integrator-account-deleted"
    )

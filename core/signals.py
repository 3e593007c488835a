"""What core tells the apps above it, without importing them.

`integrator_account_saved(account, created, before, after)`: an integrator.io account was
added or changed (`core.accounts.integrator_account_save`, which the admin and `manage.py
integrator_account` both call). `before` (None when created) and `after` are its settings, the
token only as a state ("" none, "set", "set (new)" when replaced), never the token or its
ciphertext. Sent inside the saving transaction, so that the audit log's receiver records the
change exactly when it commits.

`deployment_rekeyed(deployment, old, new)`: this database was given a new deployment identity
(`core.deployment.deployment_rekey`, `manage.py deployment_rekey`); sent inside its transaction.
"""

from django.dispatch import Signal

integrator_account_saved = Signal()
deployment_rekeyed = Signal()

"""Desired state, observed state, plan, apply: how a tenant's integration is made to match what
its template version and settings say (see docs/reconcile.md).

`state` and `planner` (and `simulate`) are pure: no I/O, no Django. `desired` builds the
desired state from the database, `observe` reads the observed state from integrator.io, and
`apply` carries a plan's changes out, one idempotent call each.
"""

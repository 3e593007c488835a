"""Desired state, observed state, plan, apply: how a tenant's integration is made to match what
its template version and settings say.

`state` (the two states), `changes` (what a plan is made of), `planner` (`plan`: the ordered
changes; its docstring gives the rules and the order) and `simulate` (a model of
integrator.io carrying changes out, and their cost in calls) are pure: no I/O, no Django
(`.importlinter` holds them to it). Still to come: `desired` builds the desired state from the
database, `observe` reads the observed state from integrator.io, and `apply` carries a plan's
changes out, one idempotent call each, observing and planning again after a clone.
"""

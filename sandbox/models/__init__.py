"""The sandbox's state and rules, in plain modules that know nothing of HTTP requests.

`store.py` holds the account (every object, job plans and errors, State API keys) and
`state_file.py` keeps it across restarts. Each upstream resource has one module of rules named
after its model (`connection_rules.py`, `integration_rules.py`, `flow_rules.py`,
`export_import_rules.py`, `iclient_rules.py`): validation, server fields and how a document
renders. Behaviours that span resources have their own: `cloning.py`, the job engine
(`job_engine.py`, `job_outcomes.py`, `job_queries.py`), ping and the sandbox's own calls to
targets (`ping.py`, `outbound.py`), `virtual_exports_imports.py`. The request pipeline's state
is here too: `faults.py` (latency and fault rules) and `rate_limit.py` (the leaky buckets).
Every error raised here is an upstream-shaped one from `sandbox/exceptions.py`.
"""

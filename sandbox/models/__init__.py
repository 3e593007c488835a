"""The sandbox's state and rules, in plain modules: none of them sees an aiohttp request.

`store.py` holds the account (every object, job plans and errors, State API keys) and
`state_file.py` keeps it across restarts; `documents.py`, `object_ids.py` and `timestamps.py`
are what every model shares. Each upstream resource has one module of rules named after its
model (`connection_rules.py`, `integration_rules.py`, `flow_rules.py`, `export_import_rules.py`,
`iclient_rules.py`, `state_keys.py`): validation, server-owned fields, how a document renders.
What spans resources has its own module: `cloning.py`; the job engine (`job_engine.py`,
`job_outcomes.py`, `job_queries.py`); ping and the sandbox's own calls to targets (`ping.py`,
`outbound.py`); `virtual_exports_imports.py`. The request pipeline's state is here too:
`faults.py` (latency and fault rules) and `rate_limit.py` (the leaky buckets). The errors raised
here are the upstream-shaped ones of `sandbox/exceptions.py`.
"""

"""Per-request and per-task context that every log line carries.

Context variables rather than thread-locals: they follow the code into threads of a threaded
Celery pool and into async views alike.
"""

import contextlib
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id: ContextVar[str | None] = ContextVar("tenant_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)


@contextlib.contextmanager
def bound(*, tenant: object = None, job: object = None):
    """Tag the log lines written inside the block with a tenant and/or job id."""
    tokens = []
    if tenant is not None:
        tokens.append((tenant_id, tenant_id.set(str(tenant))))
    if job is not None:
        tokens.append((job_id, job_id.set(str(job))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)

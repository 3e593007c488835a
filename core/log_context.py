"""Per-request and per-task context that every log line carries.

Context variables rather than thread-locals: they follow the code into threads of a threaded
Celery pool and into async views alike.

A request's context is opened by `config.request_id.RequestIdMiddleware` and lasts until the
server closes the response, after it has written its own line about the request; a view names
the request's tenant with `request_bind`, which holds until then too. A task or a block of
code names its tenant or job with `bound`, which holds for the block.
"""

import contextlib
from contextvars import ContextVar, Token

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id: ContextVar[str | None] = ContextVar("tenant_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)
# The trace of the request's own span (core.tracing), kept to the request's end: Django's
# "Not Found: ..." line and the server's line about the request are written after that span
# has ended, and name its trace all the same.
request_trace_id: ContextVar[str | None] = ContextVar("request_trace_id", default=None)


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


def request_begin(*, rid: str, trace: str | None = None) -> list[tuple[ContextVar, Token]]:
    """A request starts: its id, its span's trace (with tracing on), and no tenant or job until
    its view names them."""
    return [
        (request_id, request_id.set(rid)),
        (tenant_id, tenant_id.set(None)),
        (job_id, job_id.set(None)),
        (request_trace_id, request_trace_id.set(trace)),
    ]


def request_bind(*, tenant: object) -> None:
    """Name the request's tenant (its external id) on every line from here to the request's
    end, the server's line about the request included."""
    tenant_id.set(str(tenant))


def request_end(tokens: list[tuple[ContextVar, Token]]) -> None:
    """Put back what the context held before the request (nothing, in a server's thread)."""
    for var, token in reversed(tokens):
        # Closed from another context (an ASGI server's), reset() raises: the request's
        # values were never visible there, so there is nothing to put back.
        with contextlib.suppress(ValueError):
            var.reset(token)

"""OpenTelemetry tracing, off unless OTEL_ENABLED=1 (docs/operations.md, "Traces").

When on, one trace follows a piece of work across processes:

- the API request (opentelemetry-instrumentation-django: a server span per request, which
  also continues a caller's `traceparent`);
- the Celery task it enqueues (opentelemetry-instrumentation-celery: the publishing process
  puts `traceparent` in the message's headers, the worker continues the trace from them);
- every HTTP attempt at integrator.io that the task (or the request) makes: a client span per
  attempt, made from the CallRecord that the client reports to its `on_call` hook
  (`integrator_call_span`). The plain-Python client stays unaware of tracing.

Every log line carries the current trace id (`trace=` in text lines, `trace_id` in JSON ones;
config.structured_logging), so that a trace leads to its logs and back.

Spans go to OTEL_EXPORTER: `otlp` (OTLP over HTTP, to OTEL_EXPORTER_OTLP_ENDPOINT, in
batches), `console` (stdout, for a look in development) or `none` (trace ids in the logs
only).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings

# OpenTelemetry is imported only once tracing is installed: with it off (the default), no
# process pays for importing it.
if TYPE_CHECKING:
    from integrator.transport import CallRecord

logger = logging.getLogger(__name__)

# The instrumentation searches each of these regular expressions anywhere in the request's
# URL (scheme, host and path; without the query): a bare "metrics" left out a tenant
# `metrics-shop`'s every API request, and a host named metrics.example.com every request. So
# the whole URL is matched, and only the three paths config.probes answers go untraced.
UNTRACED_URLS = r"^[a-z]+://[^/]+/(?:metrics|healthz|readyz)$"

_lock = threading.Lock()
_provider = None
_TRACER_NAME = "embedded-integrations"


def tracing_enabled() -> bool:
    return _provider is not None


def tracing_install(*, exporter=None) -> None:
    """Set up this process's tracer provider and instrument Django and Celery. Idempotent.
    `exporter`: where spans go, synchronously (tests pass an in-memory one); otherwise the
    OTEL_EXPORTER setting's, in batches."""
    global _provider
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    with _lock:
        if _provider is None:
            provider = TracerProvider(
                resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME})
            )
            configured = _configured_exporter() if exporter is None else None
            if configured is not None:
                provider.add_span_processor(BatchSpanProcessor(configured))
            trace.set_tracer_provider(provider)
            _provider = trace.get_tracer_provider()
        if exporter is not None:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        if not DjangoInstrumentor().is_instrumented_by_opentelemetry:
            # /metrics and the probes are scraped every few seconds: no trace for them.
            DjangoInstrumentor().instrument(
                excluded_urls=UNTRACED_URLS, request_hook=_request_span_redact
            )
        if not CeleryInstrumentor().is_instrumented_by_opentelemetry:
            CeleryInstrumentor().instrument()


def tracing_uninstrument() -> None:
    """Undo the instrumentation (tests); the provider stays, as OpenTelemetry allows one."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    global _provider
    with _lock:
        if DjangoInstrumentor().is_instrumented_by_opentelemetry:
            DjangoInstrumentor().uninstrument()
        if CeleryInstrumentor().is_instrumented_by_opentelemetry:
            CeleryInstrumentor().uninstrument()
        _provider = None


# The attributes of a server span that hold the request's URL (the old and the stable HTTP
# conventions): a credential form's link token is in its path, an OAuth callback's code and
# state are in its query.
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.path", "url.query")


def _request_span_redact(span, request) -> None:
    """The request hook of the Django instrumentation: the URL attributes it has just set, with
    credentials masked by the rules the log handlers use (`/connect/[REDACTED]/`, `code=` and
    `state=`, `token=`...). The span's name is the route (`connect/<str:token>/`) already."""
    from core.redaction import redact_text

    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            redacted = redact_text(value)
            if redacted != value:
                span.set_attribute(key, redacted)


def _configured_exporter():
    kind = settings.OTEL_EXPORTER
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The endpoint and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
        return OTLPSpanExporter()
    return None


def integrator_call_span(record: CallRecord, *, group: str, lane: str) -> None:
    """One client span for one HTTP attempt at integrator.io, as a child of whatever span is
    current (the task's, the request's). Made after the fact, from the attempt's own timing,
    so that the client needs no tracing hook of its own."""
    if _provider is None:
        return
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    try:
        end = time.time_ns()
        start = end - int(record.duration_ms * 1_000_000)
        tracer = trace.get_tracer(_TRACER_NAME)
        span = tracer.start_span(
            f"integrator.io {record.method} {group}", kind=SpanKind.CLIENT, start_time=start
        )
        span.set_attribute("http.request.method", record.method)
        span.set_attribute("url.path", record.path)
        span.set_attribute("integrator.endpoint_group", group)
        span.set_attribute("integrator.lane", lane)
        span.set_attribute("integrator.attempt", record.attempt)
        if record.status is not None:
            span.set_attribute("http.response.status_code", record.status)
        if record.error_code:
            span.set_attribute("error.type", record.error_code)
        # No answer, a 5xx, or any refusal (a 4xx, which integrator.io names in error_code):
        # the attempt failed, as OpenTelemetry's HTTP conventions have it for client spans.
        if record.status is None or record.status >= 400 or record.error_code:
            span.set_status(Status(StatusCode.ERROR, record.error_code or str(record.status)))
        span.end(end_time=end)
    except Exception:
        logger.exception("recording an integrator.io span failed")


def job_ended_span(*, job_id: str, kind: str, outcome: str, error: str = "") -> None:
    """A job's end on the current span (the task's that ran it): which job, how it ended, and
    an error status when it failed, so that a search for failed traces finds failed jobs."""
    if _provider is None:
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    try:
        span = trace.get_current_span()
        if not span.is_recording():
            return
        span.set_attribute("job.id", job_id)
        span.set_attribute("job.kind", kind)
        span.set_attribute("job.outcome", outcome)
        if outcome == "failed":
            span.set_status(Status(StatusCode.ERROR, f"{kind} job failed: {error or 'error'}"))
    except Exception:
        logger.exception("recording a job's end on its span failed")


def current_trace_id() -> str | None:
    """The current span's trace id in hex, or None outside a span (always, with tracing off)."""
    if _provider is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None

"""Tracing (core/tracing.py): one trace from the API request through the Celery task it
enqueues to every integrator.io call the task makes, and the trace id in the worker's log
lines. Off unless OTEL_ENABLED=1.

The spans of one process are caught by an in-memory exporter. A worker in another process
cannot share it, so the trace's crossing is tested in two halves that meet at the message:

1. in this process: the request's span, the message it publishes (captured, not sent; its
   headers are what a worker would receive), then the task run from exactly those headers by
   Celery's own tracer (what a worker's Request.execute calls), and its integrator.io calls;
2. a real worker process given a message with a trace's `traceparent` writes that trace id on
   its log lines for the task.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from celery.app.trace import build_tracer
from kombu import Producer
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from config.celery import app as celery_app
from config.structured_logging import ContextFilter, JsonFormatter
from core.tracing import current_trace_id, tracing_install, tracing_uninstrument
from provisioning.models import Job, JobStatus
from provisioning.tasks import job_run
from tests.celery_probe.models import ProbeRow
from tests.celery_probe.tasks import write_probe_row
from tests.fixtures.web_server import dockerfile_command, gunicorn_options


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    tracing_install(exporter=exporter)
    yield exporter
    tracing_uninstrument()
    exporter.clear()


@pytest.fixture
def published(monkeypatch):
    """Messages this process publishes, caught before they reach the broker: (body, headers)."""
    caught: list[tuple[object, dict]] = []

    def publish(self, body, **kwargs):
        caught.append((body, dict(kwargs.get("headers") or {})))

    monkeypatch.setattr(Producer, "publish", publish)
    return caught


def hex_id(number: int) -> str:
    return format(number, "032x")


def test_tracing_is_off_by_default(settings):
    assert settings.OTEL_ENABLED is False
    assert current_trace_id() is None


def test_a_log_line_written_inside_a_span_names_its_trace(spans):
    with trace.get_tracer("tests").start_as_current_span("work") as span:
        record = logging.LogRecord("tests", logging.INFO, __file__, 1, "working", None, None)
        ContextFilter().filter(record)
    outside = logging.LogRecord("tests", logging.INFO, __file__, 1, "idle", None, None)
    ContextFilter().filter(outside)
    assert record.trace_id == hex_id(span.get_span_context().trace_id)
    assert outside.trace_id == "-"
    assert json.loads(JsonFormatter().format(record))["trace_id"] == record.trace_id


def test_one_trace_spans_the_request_the_task_and_its_integrator_calls(
    world, live_api, spans, published
):
    tenant = world.tenant("Acme")
    response = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision", format="json")
    assert response.status_code == 202, response.content
    [server] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    trace_id = server.context.trace_id

    # The message the request enqueued (on commit) carries the request's trace.
    [(body, headers)] = [(b, h) for b, h in published if h.get("task") == job_run.name]
    assert headers["traceparent"].split("-")[1] == hex_id(trace_id)
    [producer] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.PRODUCER]
    assert producer.context.trace_id == trace_id
    assert producer.parent.span_id == server.context.span_id

    # A worker runs the task from those headers: Celery's tracer with the message's headers as
    # the request (celery.worker.request.Request.execute does the same).
    args, kwargs, _ = body
    run = build_tracer(job_run.name, job_run, app=celery_app, eager=False, propagate=True)
    run(headers["id"], args, kwargs, {**headers, "hostname": "tracing-test"})
    job = Job.objects.get(pk=args[0])
    assert job.status == JobStatus.SUCCEEDED, job.error_message

    [consumer] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert consumer.context.trace_id == trace_id
    assert consumer.parent.span_id == producer.context.span_id
    calls = [s for s in spans.get_finished_spans() if s.name.startswith("integrator.io ")]
    # One span per HTTP attempt the job made (its API-call log), each in the request's trace,
    # under the task's span.
    assert len(calls) == job.api_calls.count() >= 5
    assert {s.context.trace_id for s in calls} == {trace_id}
    assert {s.parent.span_id for s in calls} == {consumer.context.span_id}
    clone = [s for s in calls if s.attributes["url.path"].endswith("/clone")]
    assert clone and clone[0].attributes["http.response.status_code"] == 201
    assert clone[0].attributes["integrator.lane"] == "jobs"
    assert clone[0].end_time - clone[0].start_time > 0
    # Nothing failed: no span says it did.
    assert {s.status.status_code for s in [*calls, consumer]} == {StatusCode.UNSET}
    assert consumer.attributes["job.outcome"] == "succeeded"


def test_a_worker_writes_the_trace_id_of_the_message_on_its_log_lines(
    worker_factory, transactional_db, spans
):
    queue = f"tracing-probe-{time.monotonic_ns()}"
    # Its own queue: a worker with other settings must not take the session worker's tasks.
    worker = worker_factory(
        env={"OTEL_ENABLED": "1", "OTEL_EXPORTER": "none"}, queues=queue, concurrency=1
    )
    worker.start()
    tracer = trace.get_tracer("tests")
    with tracer.start_as_current_span("host app request") as span:
        trace_id = hex_id(span.get_span_context().trace_id)
        write_probe_row.apply_async(args=["traced"], queue=queue)
    deadline = time.monotonic() + 20
    while not ProbeRow.objects.filter(label="traced").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ProbeRow.objects.filter(label="traced").exists()
    deadline = time.monotonic() + 5
    while "succeeded" not in worker.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [line for line in worker.log_path.read_text().splitlines() if "write_probe_row" in line]
    traced = [line for line in lines if f"trace={trace_id}" in line]
    assert any("succeeded" in line for line in traced), lines
    # Lines outside the task (the worker starting) carry no trace.
    assert re.search(r"trace=- *\]", worker.log_path.read_text())


class OtlpCollector:
    """An OTLP/HTTP endpoint of the test's own: keeps the bodies posted to /v1/traces."""

    def __init__(self) -> None:
        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path == "/v1/traces":
                    bodies.append(self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_web_server_exports_the_request_span_to_an_otlp_endpoint(
    web_server_factory, transactional_db
):
    collector = OtlpCollector()
    try:
        server = web_server_factory(
            env={
                "OTEL_ENABLED": "1",
                "OTEL_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            },
            args=gunicorn_options(dockerfile_command()),
        )
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        response = server.request(
            "GET",
            "/api/v1/tenants",
            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
        assert response.status_code == 401  # no key: still a request, and its span
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            bytes.fromhex(trace_id) in body for body in collector.bodies
        ):
            time.sleep(0.1)
        # The host app's trace, continued by the service and exported in OTLP's protobuf.
        assert any(bytes.fromhex(trace_id) in body for body in collector.bodies), server.log()
        # The lines about the request, written once its span has ended, name its trace too:
        # Django's and gunicorn's access line.
        rid = response.headers["X-Request-ID"]
        lines = [line for line in server.log().splitlines() if f"req={rid}" in line]
        assert any("Unauthorized: /api/v1/tenants" in line for line in lines), lines
        assert any('"GET /api/v1/tenants HTTP/1.1" 401' in line for line in lines), lines
        assert all(f"trace={trace_id}" in line for line in lines), lines
        # The probes and /metrics are not traced.
        before = len(collector.bodies)
        server.request("GET", "/healthz")
        time.sleep(0.5)
        assert len(collector.bodies) == before
    finally:
        collector.close()


def test_a_request_span_keeps_no_link_token_nor_oauth_code(world, client, spans):
    """A credential form's link carries its bearer token in the path, and an OAuth callback its
    code and state in the query: the server span records the route, never those."""
    from tenants.connect_links import connect_link_create

    link = connect_link_create(tenant=world.tenant("Acme", ready=False))
    assert client.get(link.path).status_code == 200
    client.get("/connect/oauth/callback?code=c0de-S3cret-value&state=st4te-S3cret-value")
    server = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert len(server) == 2
    recorded = json.dumps([dict(s.attributes) for s in server] + [s.name for s in server])
    assert link.token not in recorded
    assert link.token.split(":")[0] not in recorded
    assert "S3cret" not in recorded
    assert "/connect/[REDACTED]/" in recorded
    assert server[0].attributes["http.route"] == "connect/<str:token>/"


def test_the_lines_written_after_the_request_span_ended_name_its_trace(db, client, spans):
    """Django's "Bad Request: ..." line and the server's access line are written after the
    middleware chain (and so the request's span) has ended, still inside the request's log
    context: they carry the request's trace id, as its other lines do."""
    seen: list[tuple[str, str]] = []

    class Catch(logging.Handler):
        def emit(self, record):
            ContextFilter().filter(record)
            seen.append((record.getMessage(), record.trace_id))

    handler = Catch()
    logging.getLogger("django.request").addHandler(handler)
    try:
        response = client.get("/connect/oauth/callback?code=abc&state=unknown")
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert response.status_code == 400
    [server] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert seen and seen[-1] == (
        "Bad Request: /connect/oauth/callback",
        hex_id(server.context.trace_id),
    )
    outside = logging.LogRecord("tests", logging.INFO, __file__, 1, "idle", None, None)
    ContextFilter().filter(outside)
    assert outside.trace_id == "-"


def test_a_failed_job_marks_its_task_span_and_the_refused_call_as_errors(
    world, live_api, spans, published
):
    """integrator.io refuses the clone (422): the job fails, and the trace says so: the task's
    span and the refused call's span have an error status, so that a search for failed traces
    finds the failed job, and the span names the job."""
    world.sandbox.control.inject_fault(
        "error", path="/v1/integrations/*/clone", method="POST", status=422
    )
    tenant = world.tenant("Acme")
    response = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision", format="json")
    assert response.status_code == 202, response.content
    [(body, headers)] = [(b, h) for b, h in published if h.get("task") == job_run.name]
    args, kwargs, _ = body
    run = build_tracer(job_run.name, job_run, app=celery_app, eager=False, propagate=True)
    run(headers["id"], args, kwargs, {**headers, "hostname": "tracing-test"})
    job = Job.objects.get(pk=args[0])
    assert job.status == JobStatus.FAILED

    [consumer] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert consumer.status.status_code == StatusCode.ERROR
    assert job.error_code in consumer.status.description
    assert consumer.attributes["job.id"] == str(job.pk)
    assert consumer.attributes["job.outcome"] == "failed"
    [clone] = [
        s
        for s in spans.get_finished_spans()
        if s.name.startswith("integrator.io POST") and s.attributes["url.path"].endswith("/clone")
    ]
    assert clone.attributes["http.response.status_code"] == 422
    assert clone.status.status_code == StatusCode.ERROR


def test_only_the_probes_and_metrics_go_untraced_not_paths_that_name_them(db, api, spans, settings):
    """The instrumentation's exclusions are regular expressions searched anywhere in the URL:
    "metrics", "healthz" and "readyz" left out every request whose URL held the word, a tenant
    `metrics-shop` (all of its API requests) or a host named metrics.example.com (every
    request). Only the three paths themselves go untraced."""
    api.get("/api/v1/tenants/metrics-shop")
    api.get("/api/v1/tenants/readyz-co/jobs")
    api.get("/healthz")
    api.get("/readyz")
    api.get("/metrics")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "metrics.example.com"]
    api.get("/api/v1/tenants/acme", HTTP_HOST="metrics.example.com")
    server = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert len(server) == 3, [s.attributes.get("http.url") for s in server]

"""Metrics after real work: a provision run by the session's real Celery worker shows in what
that worker process recorded (its files in PROMETHEUS_MULTIPROC_DIR, as deployed), in a web
server's /metrics that shares the directory, and on a worker's own metrics port."""

from __future__ import annotations

import os
import socket

import pytest
import requests

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from tests.fixtures.metrics import recorded, scraped, total
from tests.fixtures.web_server import dockerfile_command, free_port, gunicorn_options

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def provisioned(world):
    """(before, after): the worker's recorded metrics around one provision."""
    tenant = world.tenant("Acme")
    before = recorded(world.engine.env["PROMETHEUS_MULTIPROC_DIR"])
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    return before, recorded(world.engine.env["PROMETHEUS_MULTIPROC_DIR"]), job


def test_a_provision_by_the_worker_shows_in_the_worker_process_counters(provisioned, world):
    before, after, job = provisioned
    worker_files = os.listdir(world.engine.env["PROMETHEUS_MULTIPROC_DIR"])
    assert any(f"_{world.engine.process.pid}.db" in name for name in worker_files), worker_files

    def delta(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    assert delta("eis_jobs_finished_total", kind="provision", outcome="succeeded") == 1
    assert delta("eis_job_duration_seconds_count", kind="provision", outcome="succeeded") == 1
    steps = list(job.steps.values_list("name", flat=True))
    for step in steps:
        assert delta("eis_job_step_duration_seconds_count", step=step, outcome="succeeded") >= 1
    # Each HTTP attempt of the job (its API-call log) is one call in the jobs lane, and each
    # took a limiter token.
    sent = delta("eis_integrator_calls_total", lane="jobs")
    assert sent == job.api_calls.count() >= 5
    assert delta("eis_integrator_calls_total", lane="jobs", status_class="2xx") >= 5
    assert delta("eis_integrator_calls_total", lane="jobs", group="integrations") >= 1
    assert delta("eis_integrator_call_duration_seconds_count", lane="jobs") == delta(
        "eis_integrator_calls_total", lane="jobs"
    ) - delta("eis_integrator_calls_total", lane="jobs", status_class="not_sent")
    assert delta("eis_integrator_limiter_wait_seconds_count", lane="jobs") >= sent
    # The worker's heartbeat, for the "workers absent" alert.
    assert total(after, "eis_worker_heartbeat_timestamp_seconds") > 0


def test_a_web_server_sharing_the_directory_shows_the_worker_counters(
    provisioned, world, web_server_factory
):
    _, after, _ = provisioned
    server = web_server_factory(
        env={
            "PROMETHEUS_MULTIPROC_DIR": world.engine.env["PROMETHEUS_MULTIPROC_DIR"],
            "METRICS_TOKEN": TOKEN,
        },
        args=gunicorn_options(dockerfile_command()),
    )
    assert server.request("GET", "/metrics").status_code == 401
    assert server.request("HEAD", "/metrics").status_code == 401
    head = server.request("HEAD", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert head.status_code == 200
    response = server.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    shown = scraped(response.text)
    name = "eis_jobs_finished_total"
    assert total(shown, name, kind="provision", outcome="succeeded") >= total(
        after, name, kind="provision", outcome="succeeded"
    )
    # And the state read from the database at the scrape: the tenant is active now.
    assert total(shown, "eis_tenants", template="shop-to-erp", status="active") == 1
    assert total(shown, "eis_service_state_up") == 1


def test_a_worker_serves_its_own_metrics_behind_the_token(worker_factory, metrics_dir):
    port = free_port()
    # Its own queue: a worker with other settings must not take the session worker's tasks.
    worker = worker_factory(
        env={"METRICS_WORKER_PORT": str(port), "METRICS_TOKEN": TOKEN},
        queues=f"metrics-probe-{port}",
    )
    worker.start()
    url = f"http://127.0.0.1:{port}/metrics"
    session = requests.Session()
    session.trust_env = False
    assert session.get(url, timeout=5).status_code == 401
    wrong = session.get(url, headers={"Authorization": "Bearer not-the-token-at-all"}, timeout=5)
    assert wrong.status_code == 401
    response = session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 200
    shown = scraped(response.text)
    assert total(shown, "eis_worker_heartbeat_timestamp_seconds") > 0
    # The worker serves what processes recorded, never the database's gauges (the web's).
    assert not any(name == "eis_tenants" for name, _ in shown)


def raw_request(port: int, method: str, authorization: str | None = None) -> tuple[str, bytes]:
    """(status line and headers, body) of one request, read to the server's close: a client
    library reads no body after a HEAD, so it would not see one that was sent."""
    lines = [f"{method} /metrics HTTP/1.0", "Host: 127.0.0.1"]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode(), body


def test_a_worker_answers_head_as_get_without_the_body_and_refuses_other_methods(
    worker_factory, metrics_dir
):
    """A HEAD to a worker's metrics port was answered with the whole body (wsgiref sends what
    the application returns whatever the method): it answers what GET would, status and
    headers, and no body."""
    port = free_port()
    worker = worker_factory(
        env={"METRICS_WORKER_PORT": str(port), "METRICS_TOKEN": TOKEN},
        queues=f"metrics-probe-{port}",
    )
    worker.start()
    for authorization in (None, "Bearer not-the-token-at-all", f"Bearer {TOKEN}"):
        get_head, get_body = raw_request(port, "GET", authorization)
        head, body = raw_request(port, "HEAD", authorization)
        assert body == b"", (authorization, head, body[:200])
        assert get_body
        assert head.splitlines()[0] == get_head.splitlines()[0]
        for name in ("Content-Type", "WWW-Authenticate"):
            assert [h for h in head.splitlines() if h.startswith(f"{name}:")] == [
                h for h in get_head.splitlines() if h.startswith(f"{name}:")
            ]
    assert raw_request(port, "HEAD")[0].startswith("HTTP/1.0 401 ")
    assert raw_request(port, "HEAD", f"Bearer {TOKEN}")[0].startswith("HTTP/1.0 200 ")
    # A scrape only reads: other methods are refused, as the web's /metrics refuses them.
    for method in ("POST", "PUT", "DELETE"):
        head, _ = raw_request(port, method, f"Bearer {TOKEN}")
        assert head.startswith("HTTP/1.0 405 "), (method, head)
        assert "Allow: GET, HEAD" in head

"""/metrics: the service's Prometheus metrics, for the holder of METRICS_TOKEN only
(docs/operations.md).

Two sources make one scrape:

- what processes recorded as they worked (core.metrics: integrator.io calls, jobs, steps,
  webhook deliveries, drift checks, worker heartbeats). With PROMETHEUS_MULTIPROC_DIR set,
  every process of the host (gunicorn's workers, and Celery workers sharing the directory)
  writes its own files there and a scrape adds them up; without it, this process's memory.
- the state of the service, read from the database (and the breaker from Redis) when scraped
  (`ServiceStateCollector`): tenants by template, version and status, unfinished jobs, the
  sync lag, pending and dead webhook deliveries, open drift, rollouts. Only the web serves
  these, so that Prometheus never counts them twice.

A Celery worker that shares no directory with a web server serves its own recorded metrics on
METRICS_WORKER_PORT (`worker_metrics_start`), behind the same token.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from core import metrics

logger = logging.getLogger(__name__)

P = metrics.PREFIX
HEARTBEAT_SECONDS = 15.0
BREAKER_STATES = ("closed", "open", "half_open", "disabled", "unknown")


def _multiproc_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


class _ThisProcess(Collector):
    """The default registry's metrics (this process's memory), when there is no directory."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def recorded_registry() -> CollectorRegistry:
    """What processes recorded: every process's files, or this process's memory."""
    registry = CollectorRegistry(auto_describe=True)
    if _multiproc_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    return registry


def scrape_registry() -> CollectorRegistry:
    registry = recorded_registry()
    registry.register(ServiceStateCollector())
    return registry


def _family(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{P}_{name}", documentation, labels=labels)


class ServiceStateCollector(Collector):
    """Gauges read from the database at each scrape. Labels stay bounded: templates, their
    versions and the status enums, never a tenant."""

    def describe(self) -> Iterable[Metric]:
        return list(self._families().values())

    def collect(self) -> Iterator[Metric]:
        families = self._families()
        up = families.pop("state_up")
        try:
            self._fill(families)
            up.add_metric([], 1)
        except DatabaseError as error:
            # A scrape while the database is down still answers: the gauges are left out and
            # eis_service_state_up says why.
            logger.warning("metrics: the database could not be read (%s)", type(error).__name__)
            up.add_metric([], 0)
            families = {}
        yield up
        yield from families.values()
        yield self._breaker()
        yield self._token_refused()

    @staticmethod
    def _families() -> dict[str, GaugeMetricFamily]:
        return {
            "state_up": _family(
                "service_state_up", "1 when the database-derived gauges could be read."
            ),
            "tenants": _family(
                "tenants",
                "Tenants by template, template version and status.",
                ["template", "version", "status"],
            ),
            "jobs_unfinished": _family(
                "jobs_unfinished", "Jobs queued or running, by kind and status.", ["kind", "status"]
            ),
            "job_oldest_queued": _family(
                "job_oldest_queued_seconds",
                "How long the oldest due queued job has been due (0: none).",
            ),
            "sync_lag": _family(
                "run_sync_lag_seconds",
                "How old the most out-of-date live tenant's runs may be: the age of its "
                "account's last completed sync cycle (0: no live tenant).",
            ),
            "sync_overdue": _family(
                "run_sync_overdue_seconds",
                "How far past its due time the next account sync cycle is (0: on time).",
            ),
            "sync_failures": _family(
                "run_sync_consecutive_failures",
                "Sync cycles in a row that failed, for the worst account with live tenants.",
            ),
            "deliveries_pending": _family(
                "webhook_deliveries_pending", "Webhook deliveries waiting to be sent or retried."
            ),
            "delivery_oldest_pending": _family(
                "webhook_oldest_pending_seconds",
                "Age of the oldest pending webhook delivery (0: none).",
            ),
            "deliveries_dead": _family(
                "webhook_deliveries_dead",
                "Dead-lettered webhook deliveries kept (until retention removes them).",
            ),
            "drifted": _family(
                "tenants_drifted", "Tenants with an open drift episode, by template.", ["template"]
            ),
            "rollouts": _family("rollouts", "Rollouts by status.", ["status"]),
            "rollout_tenants": _family(
                "rollout_tenants",
                "Tenants of in-flight rollouts (running, paused, rolling back) by state.",
                ["template", "version", "state"],
            ),
        }

    @staticmethod
    def _fill(families: dict[str, GaugeMetricFamily]) -> None:
        # Imported here: the domain apps are loaded by the time anything scrapes.
        from provisioning.models import Drift, Job, JobStatus
        from rollouts.models import IN_FLIGHT_STATUSES, Rollout, RolloutTenant
        from runs.models import RunSyncCursor
        from runs.scheduling import LIVE_STATUSES
        from tenants.models import Tenant
        from webhooks.models import DeliveryStatus, WebhookDelivery

        now = timezone.now()

        def age(moment) -> float:
            return metrics.seconds_since(moment, now) or 0.0

        rows = Tenant.objects.values_list(
            "template_version__template__key", "template_version__version", "status"
        ).annotate(n=Count("id"))
        for template, version, status, n in rows:
            families["tenants"].add_metric([template, version, status], n)

        unfinished = (JobStatus.QUEUED, JobStatus.RUNNING)
        rows = Job.objects.filter(status__in=unfinished).values_list("kind", "status")
        for kind, status, n in rows.annotate(n=Count("id")):
            families["jobs_unfinished"].add_metric([kind, status], n)
        oldest_due = Job.objects.filter(status=JobStatus.QUEUED, due_at__lte=now).aggregate(
            at=Min("due_at")
        )["at"]
        families["job_oldest_queued"].add_metric([], age(oldest_due))

        # The scheduled run sync is account-wide (runs.account_sync): every live tenant is as
        # fresh as its account's last completed cycle. Only the cursors of accounts with live
        # tenants count: an account deleted leaves its cursor behind, never synced again, and
        # an account without a live tenant has no runs to be behind on.
        lag = overdue = failures = 0.0
        live_accounts = (
            Tenant.objects.filter(status__in=LIVE_STATUSES)
            .exclude(integration_id="")
            .values_list("account__key", flat=True)
            .distinct()
        )
        for synced, due, failed in RunSyncCursor.objects.filter(key__in=live_accounts).values_list(
            "last_synced_at", "next_sync_at", "consecutive_failures"
        ):
            lag = max(lag, age(synced or due))
            overdue = max(overdue, age(due))
            failures = max(failures, failed)
        families["sync_lag"].add_metric([], lag)
        families["sync_overdue"].add_metric([], overdue)
        families["sync_failures"].add_metric([], failures)

        pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        stats = pending.aggregate(n=Count("id"), oldest=Min("created_at"))
        families["deliveries_pending"].add_metric([], stats["n"])
        families["delivery_oldest_pending"].add_metric([], age(stats["oldest"]))
        dead = WebhookDelivery.objects.filter(status=DeliveryStatus.DEAD).count()
        families["deliveries_dead"].add_metric([], dead)

        rows = Drift.objects.filter(cleared_at=None).values_list("tenant__template__key")
        for template, n in rows.annotate(n=Count("id")):
            families["drifted"].add_metric([template], n)

        for status, n in Rollout.objects.values_list("status").annotate(n=Count("id")):
            families["rollouts"].add_metric([status], n)
        rows = (
            RolloutTenant.objects.filter(rollout__status__in=IN_FLIGHT_STATUSES)
            .values_list("rollout__template__key", "rollout__to_version__version", "state")
            .annotate(n=Count("id"))
        )
        for template, version, state, n in rows:
            families["rollout_tenants"].add_metric([template, version, state], n)

    @staticmethod
    def _breaker() -> GaugeMetricFamily:
        from core.integrator_client import rate_limit_redis
        from core.integrator_outage import integrator_accounts_status

        family = _family(
            "integrator_circuit_state",
            "Each integrator.io account's circuit breaker: 1 for its current state (unknown: "
            "Redis cannot say). Accounts are few, made by an operator: a bounded label.",
            ["account", "state"],
        )
        for account in integrator_accounts_status(rate_limit_redis()):
            for state in BREAKER_STATES:
                family.add_metric([account.key, state], 1 if state == account.status.state else 0)
        return family

    @staticmethod
    def _token_refused() -> GaugeMetricFamily:
        # A refused token opens no breaker (integrator.io answered) and is no 5xx, yet every
        # call of the account's tenants fails: this is what an alert can see of it.
        from core.account_token_checks import REFUSED, account_token_check
        from core.accounts import integrator_accounts_list
        from core.integrator_client import rate_limit_redis

        family = _family(
            "integrator_token_refused",
            "1 for an integrator.io account whose API token integrator.io refused at its last "
            "check (/readyz, or any call answered 401); 0 when accepted or not checked yet.",
            ["account"],
        )
        connection = rate_limit_redis()
        for account in integrator_accounts_list():
            check = account_token_check(connection, account_key=account.key)
            family.add_metric([account.key], 1 if check.result == REFUSED else 0)
        return family


def token_accepted(authorization: str) -> bool:
    """Whether an Authorization header carries METRICS_TOKEN (compared in constant time)."""
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.METRICS_TOKEN.encode()
    )


@never_cache
@require_safe
def metrics_view(request):
    """GET /metrics with `Authorization: Bearer <METRICS_TOKEN>`. No token configured: 404
    (the endpoint does not exist); a missing or wrong token: 401. A HEAD answers as the GET
    would, without the body (the server leaves it out)."""
    if not settings.METRICS_TOKEN:
        return HttpResponseNotFound("Not found.\n", content_type="text/plain")
    if not token_accepted(request.headers.get("Authorization", "")):
        response = HttpResponse(
            "Metrics need Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


# --- a worker's own endpoint ---------------------------------------------------------------


def _worker_answer(environ) -> tuple[str, list[tuple[str, str]], bytes]:
    """The worker's /metrics: what it (and any process sharing its directory) recorded."""
    if environ.get("PATH_INFO") != "/metrics":
        return "404 Not Found", [("Content-Type", "text/plain")], b"Not found.\n"
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        # As the web's /metrics answers (require_safe): a scrape only reads.
        return (
            "405 Method Not Allowed",
            [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")],
            b"Metrics are read with GET.\n",
        )
    if not settings.METRICS_TOKEN:
        return "404 Not Found", [("Content-Type", "text/plain")], b"Not found.\n"
    if not token_accepted(environ.get("HTTP_AUTHORIZATION", "")):
        return (
            "401 Unauthorized",
            [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
            b"Metrics need Authorization: Bearer <METRICS_TOKEN>.\n",
        )
    return "200 OK", [("Content-Type", CONTENT_TYPE_LATEST)], generate_latest(recorded_registry())


def _worker_app(environ, start_response):
    status, headers, body = _worker_answer(environ)
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    # A HEAD answers as the GET would, without the body: wsgiref sends whatever the
    # application returns, whatever the method.
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        pass  # one line per scrape would drown the worker's log


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True


_started = threading.Event()


def worker_metrics_start() -> None:
    """In a Celery worker's main process, once it is ready: a heartbeat (the "workers absent"
    alert reads it) and, with METRICS_WORKER_PORT, the worker's own metrics endpoint."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_heartbeat, name="metrics-heartbeat", daemon=True).start()
    port = settings.METRICS_WORKER_PORT
    if not port:
        return
    try:
        server = make_server(
            "0.0.0.0",  # noqa: S104 (a worker is scraped from outside its host; the token guards it)
            port,
            _worker_app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
    except OSError as error:
        # Another worker on this host has the port: it serves the same directory.
        logger.warning("worker metrics endpoint not started on port %d: %s", port, error)
        return
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    logger.info("worker metrics on http://0.0.0.0:%d/metrics", port)


def _heartbeat() -> None:
    while True:
        metrics.record_safely(metrics.worker_heartbeat)
        time.sleep(HEARTBEAT_SECONDS)


def metric_names() -> set[str]:
    """Every sample name a scrape of this service can show: the recorded metrics' (with
    their _total, _bucket, _sum, _count, _created suffixes) and the database-derived ones.
    The CI checks of deploy/ hold the alert rules and the dashboard to these."""
    names: set[str] = set()
    families = [
        *REGISTRY.collect(),
        *ServiceStateCollector().describe(),
        _family("integrator_circuit_state", ""),
        _family("integrator_token_refused", ""),
    ]
    for family in families:
        if not family.name.startswith(f"{P}_"):
            continue
        names.add(family.name)
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "gauge": (),
        }[family.type]
        names.update(family.name + suffix for suffix in suffixes)
    return names

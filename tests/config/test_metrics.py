"""/metrics: only for the holder of METRICS_TOKEN, and what it shows (config/metrics.py)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config.metrics import metric_names
from core.account_token_checks import (
    ACCEPTED,
    REFUSED,
    account_token_check_forget,
    account_token_check_record,
)
from core.accounts import integrator_account_save
from core.integrator_client import rate_limit_redis
from core.metrics import integrator_endpoint_group, status_class
from provisioning.models import Drift, Job, JobKind, JobOrigin
from provisioning.services import job_cancel, job_request
from rollouts.models import Rollout, RolloutStatus, RolloutStrategy, RolloutTenant
from runs.models import RunSyncCursor
from tenants.models import TenantStatus
from tests.config.test_settings import PRODUCTION_ENV, run_manage
from tests.fixtures.factories import TenantFactory
from webhooks.models import DeliveryStatus, Event, EventType, WebhookDelivery
from webhooks.services import endpoint_create

TOKEN = "metrics-token-for-tests-0123456789"

# Every label a metric of the service may carry: none of them names a tenant, job or delivery.
BOUNDED_LABELS = {
    "group",
    "method",
    "status_class",
    "lane",
    "to",
    "kind",
    "outcome",
    "reason",
    "step",
    "template",
    "version",
    "status",
    "state",
    "result",
    "le",
    # An integrator.io account's key: accounts are few and made by an operator.
    "account",
}
ID_LIKE = re.compile(r"^[0-9a-f]{24}$|^[0-9a-f-]{32,36}$|^\d{3,}$")


def scrape(client, token=TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", **headers)


def samples(response) -> list:
    text = response.content.decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_it_does_not_exist_without_a_token_configured(client, settings, db):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, token=None).status_code == 404


@pytest.mark.parametrize("token", [None, "wrong-token-of-the-right-length", ""])
def test_it_refuses_a_caller_without_the_token(client, settings, db, token):
    settings.METRICS_TOKEN = TOKEN
    response = scrape(client, token=token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"eis_" not in response.content


def test_it_answers_head_as_it_answers_get_without_the_body(client, settings, db):
    """A HEAD (a monitor checking the endpoint is there, `curl -I`) was answered 405 Method
    Not Allowed whatever the token: it answers what GET would, without the body."""
    settings.METRICS_TOKEN = TOKEN
    for token in (TOKEN, None, "wrong-token-of-the-right-length"):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
        get, head = client.get("/metrics", **headers), client.head("/metrics", **headers)
        assert head.status_code == get.status_code, token
        assert head["Content-Type"] == get["Content-Type"]
        assert head.get("WWW-Authenticate") == get.get("WWW-Authenticate")
        assert head.content == b""
    assert client.head("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.head("/metrics").status_code == 401
    settings.METRICS_TOKEN = ""
    assert client.head("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_it_refuses_a_write(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_it_shows_tenants_by_template_version_and_status(client, settings, template):
    settings.METRICS_TOKEN = TOKEN
    TenantFactory(template=template, status=TenantStatus.ACTIVE)
    TenantFactory(template=template, status=TenantStatus.ACTIVE)
    TenantFactory(template=template, status=TenantStatus.FAILED)
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    tenants = {
        (s.labels["template"], s.labels["status"]): s.value
        for s in samples(response)
        if s.name == "eis_tenants"
    }
    assert tenants == {("shop-to-erp", "active"): 2, ("shop-to-erp", "failed"): 1}
    values = {s.name: s.value for s in samples(response) if not s.labels}
    assert values["eis_service_state_up"] == 1
    assert values["eis_run_sync_lag_seconds"] == 0
    assert values["eis_webhook_deliveries_dead"] == 0


def test_its_labels_are_bounded_and_name_no_tenant(client, settings, template):
    settings.METRICS_TOKEN = TOKEN
    tenants = [TenantFactory(template=template) for _ in range(3)]
    # The client library's own (python_gc_*, process_*) are not the service's to bound.
    found = [s for s in samples(scrape(client)) if s.name.startswith("eis_")]
    assert found
    ids = {t.external_id for t in tenants} | {str(t.pk) for t in tenants}
    for sample in found:
        assert set(sample.labels) <= BOUNDED_LABELS, sample
        for value in sample.labels.values():
            assert value not in ids, sample
            assert not ID_LIKE.match(value), sample


def test_every_sample_it_shows_is_a_known_metric(client, settings, template):
    settings.METRICS_TOKEN = TOKEN
    TenantFactory(template=template)
    names = metric_names()
    shown = {s.name for s in samples(scrape(client)) if s.name.startswith("eis_")}
    assert shown
    assert shown <= names, shown - names


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/v1/integrations/5eed00000000000000000a01/flows", "integrations"),
        ("/v1/flows/abc/run", "flows"),
        ("/v1/connections?type=http", "connections"),
        ("/v1/tokenInfo", "tokenInfo"),
        ("/v1/5eed00000000000000000a01", "other"),
        ("/elsewhere", "other"),
    ],
)
def test_an_integrator_path_becomes_its_endpoint_group(path, group):
    assert integrator_endpoint_group(path, base_path="/v1") == group


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (200, None, "2xx"),
        (429, "rate_limited", "4xx"),
        (503, None, "5xx"),
        (None, "circuit_open", "not_sent"),
        (None, "rate_limit_wait", "not_sent"),
        (None, "read_timeout", "no_response"),
    ],
)
def test_a_call_outcome_becomes_its_status_class(status, code, expected):
    assert status_class(status, code) == expected


def test_it_shows_jobs_sync_lag_deliveries_drift_and_rollouts(client, settings, template):
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    tenant = TenantFactory(template=template, status=TenantStatus.ACTIVE, integration_id="i1")
    version = tenant.template_version
    Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        due_at=now - timedelta(minutes=5),
    )
    RunSyncCursor.objects.create(
        key="default",
        next_sync_at=now - timedelta(minutes=2),
        last_synced_at=now - timedelta(minutes=7),
        consecutive_failures=2,
    )
    endpoint = endpoint_create(url="https://host.example/hooks").endpoint
    event = Event.objects.create(event_type=EventType.TENANT_ACTIVE, tenant=tenant)
    for status in (DeliveryStatus.DEAD, DeliveryStatus.PENDING, DeliveryStatus.DELIVERED):
        WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, status=status, next_attempt_at=now
        )
    Drift.objects.create(tenant=tenant, version=version, found_at=now, last_seen_at=now)
    rollout = Rollout.objects.create(
        template=template,
        to_version=version,
        strategy=RolloutStrategy.PERCENT,
        wave_percent=50,
        max_failure_rate=0.1,
        status=RolloutStatus.RUNNING,
        created_by="ops",
    )
    RolloutTenant.objects.create(rollout=rollout, tenant=tenant, wave=1, from_version=version)

    found = samples(scrape(client))

    def value(name, **labels):
        return sum(s.value for s in found if s.name == name and labels.items() <= s.labels.items())

    assert value("eis_jobs_unfinished", kind="provision", status="queued") == 1
    assert 290 < value("eis_job_oldest_queued_seconds") < 400
    assert 410 < value("eis_run_sync_lag_seconds") < 500
    assert 110 < value("eis_run_sync_overdue_seconds") < 200
    assert value("eis_run_sync_consecutive_failures") == 2
    assert value("eis_webhook_deliveries_dead") == 1
    assert value("eis_webhook_deliveries_pending") == 1
    assert value("eis_tenants_drifted", template="shop-to-erp") == 1
    assert value("eis_rollouts", status="running") == 1
    rollout_labels = {"template": "shop-to-erp", "version": version.version, "state": "pending"}
    assert value("eis_rollout_tenants", **rollout_labels) == 1
    assert value("eis_integrator_circuit_state") == 1  # exactly one state is current


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("METRICS_TOKEN", "short", "METRICS_TOKEN must be at least 16 characters"),
        ("METRICS_WORKER_PORT", "70000", "METRICS_WORKER_PORT must be a port number"),
        ("OTEL_EXPORTER", "jaeger", "OTEL_EXPORTER must be otlp, console or none"),
    ],
)
def test_it_refuses_a_bad_metrics_or_tracing_setting_at_start(tmp_path, variable, value, message):
    result = run_manage(["check"], {**PRODUCTION_ENV, variable: value}, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_it_starts_in_production_with_metrics_and_tracing_on(tmp_path):
    env = {**PRODUCTION_ENV, "METRICS_TOKEN": TOKEN, "OTEL_ENABLED": "1", "OTEL_EXPORTER": "none"}
    result = run_manage(["check", "--deploy"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_sync_lag_leaves_out_accounts_deleted_or_without_live_tenants(
    client, settings, template
):
    """An operator deletes an account in the admin (one added with a wrong token, say, as the
    README tells): its run sync cursor stays, never synced again, and the lag, overdue and
    failures it showed grew for ever (RunSyncLagOverBudget firing for an account that is
    gone). An account without a live tenant has no runs to be behind on."""
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    TenantFactory(template=template, status=TenantStatus.ACTIVE, integration_id="i1")
    RunSyncCursor.objects.create(
        key="default", next_sync_at=now + timedelta(minutes=4), last_synced_at=now
    )
    lost = now - timedelta(hours=5)
    RunSyncCursor.objects.create(
        key="eu-deleted", next_sync_at=lost, last_synced_at=lost, consecutive_failures=3
    )
    integrator_account_save(key="eu-idle", name="EU idle", region="eu")
    RunSyncCursor.objects.create(
        key="eu-idle", next_sync_at=now + timedelta(minutes=4), last_synced_at=lost
    )

    found = samples(scrape(client))

    def value(name):
        return sum(s.value for s in found if s.name == name)

    assert value("eis_run_sync_lag_seconds") < 60
    assert value("eis_run_sync_overdue_seconds") == 0
    assert value("eis_run_sync_consecutive_failures") == 0


@pytest.mark.parametrize("status", [TenantStatus.PROVISIONING, TenantStatus.DEPROVISIONING])
def test_a_job_canceled_by_a_person_counts_as_a_canceled_job(
    template, status, django_capture_on_commit_callbacks
):
    # Jobs ended by outcome (the dashboard, JobFailuresRising's share) count a job canceled
    # from the API or the admin, queued or running, not only one its runner stopped.
    tenant = TenantFactory(template=template, status=status)
    kind = JobKind.PROVISION if status == TenantStatus.PROVISIONING else JobKind.DEPROVISION
    job = Job.objects.create(
        tenant=tenant, kind=kind, requested_by=JobOrigin.API, due_at=timezone.now()
    )
    labels = {"kind": str(kind), "outcome": "canceled"}

    def canceled() -> float:
        return REGISTRY.get_sample_value("eis_jobs_finished_total", labels) or 0.0

    before = canceled()
    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(job=job)

    assert canceled() - before == 1
    assert REGISTRY.get_sample_value("eis_job_duration_seconds_count", labels) >= 1


def test_a_provision_superseded_by_a_deprovision_counts_as_a_canceled_job(
    template, django_capture_on_commit_callbacks
):
    tenant = TenantFactory(template=template, status=TenantStatus.PROVISIONING)
    Job.objects.create(
        tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API, due_at=timezone.now()
    )
    labels = {"kind": "provision", "outcome": "canceled"}
    before = REGISTRY.get_sample_value("eis_jobs_finished_total", labels) or 0.0

    with django_capture_on_commit_callbacks(execute=True):
        job_request(tenant=tenant, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)

    assert REGISTRY.get_sample_value("eis_jobs_finished_total", labels) - before == 1


SHOW_RECORDED = (
    "from prometheus_client import generate_latest\n"
    "from config.metrics import recorded_registry\n"
    "print(generate_latest(recorded_registry()).decode())"
)


def test_a_fresh_process_shows_the_alerted_outcomes_at_zero(tmp_path):
    # Prometheus's increase() and rate() see nothing in a series whose first sample is already
    # 1: the first delivery dead-lettered (or job failed) after a worker starts must move a
    # series that was there at 0, or WebhookDeadLetters (and JobFailuresRising) never fire.
    env = {**PRODUCTION_ENV, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    result = run_manage(["shell", "-v", "0", "-c", SHOW_RECORDED], env, tmp_path)
    assert result.returncode == 0, result.stderr
    shown = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(result.stdout)
        for s in family.samples
    }
    for outcome in ("delivered", "retry", "dead", "failed", "canceled"):
        key = ("eis_webhook_delivery_attempts_total", (("outcome", outcome),))
        assert shown.get(key) == 0.0, outcome
    for kind in JobKind.values:
        for outcome in ("succeeded", "failed", "canceled"):
            key = ("eis_jobs_finished_total", (("kind", kind), ("outcome", outcome)))
            assert shown.get(key) == 0.0, (kind, outcome)
    # The dashboard's postponed runs and drift checks panels: the first outage after a restart
    # (which postpones every waiting job at once) and the first drift checks show there too.
    for kind in JobKind.values:
        for reason in ("outage", "transient"):
            key = ("eis_job_runs_postponed_total", (("kind", kind), ("reason", reason)))
            assert shown.get(key) == 0.0, (kind, reason)
    for result in ("clean", "drifted", "error"):
        assert shown.get(("eis_drift_checks_total", (("result", result),))) == 0.0, result


def test_a_kind_of_call_shows_its_failures_at_zero_before_the_first_one(
    client, settings, db, sandbox_clean
):
    """The failed attempts of each account, endpoint group, method and lane were a series born
    at their first failure, already at 1: rate() never counted that failure, and an account
    whose calls failed sparsely never moved IntegratorErrorsHigh. Once a process has made a
    kind of call, its 5xx and no-answer series are there at 0, and the first failure moves
    them."""
    from core.integrator_client import build_integrator_client

    settings.METRICS_TOKEN = TOKEN
    account = integrator_account_save(
        key="zero-baseline",
        name="Zero baseline",
        region="us",
        token=sandbox_clean.token,
        api_url=sandbox_clean.api_url,
    )
    labels = {"account": "zero-baseline", "group": "tokenInfo", "method": "GET", "lane": "jobs"}

    def calls() -> dict[str, float]:
        return {
            s.labels["status_class"]: s.value
            for s in samples(scrape(client))
            if s.name == "eis_integrator_calls_total"
            and all(s.labels.get(name) == value for name, value in labels.items())
        }

    with build_integrator_client(account=account) as integrator:
        integrator.get_token_info()
        first = calls()
        assert first["2xx"] == 1
        assert first["5xx"] == 0 and first["no_response"] == 0

        sandbox_clean.control.inject_fault("error", path="/v1/tokenInfo", status=502, times=1)
        integrator.get_token_info()  # one 502, then a retry that succeeds
    after = calls()
    assert (after["5xx"], after["2xx"]) == (1, 2)


@pytest.mark.django_db
def test_it_shows_an_account_whose_token_integrator_io_refused(client, settings):
    """integrator.io refusing an account's token fails every call of its tenants, but opens
    no breaker (integrator.io answered) and is no 5xx: /metrics showed nothing to alert on,
    and an operator learnt of a revoked EU token from customers."""
    settings.METRICS_TOKEN = TOKEN
    integrator_account_save(key="eu-main", name="EU", region="eu", token="some-token")
    integrator_account_save(key="eu-two", name="EU 2", region="eu", token="other-token")
    # What an earlier test's /readyz learnt of the default account's token is forgotten.
    account_token_check_forget(rate_limit_redis(), account_key="default")
    account_token_check_record(rate_limit_redis(), account_key="eu-main", result=REFUSED)
    account_token_check_record(rate_limit_redis(), account_key="eu-two", result=ACCEPTED)

    found = samples(scrape(client))

    refused = {
        s.labels["account"]: s.value for s in found if s.name == "eis_integrator_token_refused"
    }
    assert refused["eu-main"] == 1
    assert refused["eu-two"] == 0
    assert refused["default"] == 0  # not checked yet: nothing known to be refused
    assert "eis_integrator_token_refused" in metric_names()

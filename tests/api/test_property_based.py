"""Property-based: schemathesis generates requests for every operation of the OpenAPI document
(valid and invalid ones), sends them over real HTTP to the service served as in production
(gunicorn) with an API key, and runs every check it has on every answer: no 5xx, only
documented statuses, content types and headers, bodies that match their schema, invalid
requests refused, valid ones accepted, undeclared methods answered with 405, the API key
actually required.

The document is generated in this process, as the server serves it (a test checks that it is
the same), so that the tests are parametrized when they are collected, one per operation. They
share one world, made once: tenants (one live, with flows and runs), a job, an orphan, a
webhook endpoint with a delivery and a connect link, under ids fixed here so that requests can
name them (a schema cannot guess an id). Operations that call integrator.io reach the test
sandbox. The run is bounded (examples per operation, a deadline per example) and takes about
half a minute.
"""

import os
import uuid
from datetime import timedelta

import pytest
import schemathesis
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from provisioning.models import Job, JobKind, JobOrigin, JobStep, Orphan, OrphanKind
from runs.models import FlowRun, RunStatus, TenantFlow
from tenants.connect_links import connect_link_create
from tenants.models import ConnectLink, Tenant, TenantStatus
from tests.fixtures.factories import IntegrationTemplateFactory, TenantFactory
from tests.fixtures.web_server import WebServer, base_env, dockerfile_command, gunicorn_options
from tests.fixtures.worker import _test_database_url
from webhooks import services as webhooks
from webhooks.models import Event, EventType, WebhookDelivery, WebhookEndpoint

# The world is committed once for the module (see fuzz_target); the mark only makes
# pytest-django set up the test database, since no test here touches it.
pytestmark = pytest.mark.django_db

# A fixed seed makes each run send the same requests, so that the suite does not fail at
# random; FUZZ_SEED=<n> (or FUZZ_EXAMPLES=<n> for more examples) explores further.
SEED = int(os.environ.get("FUZZ_SEED", "20261129"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
DEADLINE = timedelta(seconds=5)
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_SEQUENCES", "10"))
STATEFUL_STEPS = 6

JOB_ID = uuid.UUID("5ca1ab1e-0000-4000-8000-000000000001")
ORPHAN_ID = uuid.UUID("5ca1ab1e-0000-4000-8000-000000000002")
LINK_ID = uuid.UUID("5ca1ab1e-0000-4000-8000-000000000003")
ENDPOINT_ID = uuid.UUID("5ca1ab1e-0000-4000-8000-000000000004")
DELIVERY_ID = uuid.UUID("5ca1ab1e-0000-4000-8000-000000000005")
EVENT_ID = uuid.UUID("5ca1ab1e-0000-4000-8000-000000000006")
RUN_ID = "5ca1ab1e0000000000000001"
FAILED_RUN_ID = "5ca1ab1e0000000000000002"
PINNED = {
    "path.job_id": str(JOB_ID),
    "path.orphan_id": str(ORPHAN_ID),
    "path.link_id": str(LINK_ID),
    "path.endpoint_id": str(ENDPOINT_ID),
    "path.delivery_id": str(DELIVERY_ID),
    "path.event_id": str(EVENT_ID),
    "path.run_id": RUN_ID,
}

# Valid requests must be accepted (2xx, or 401, 403, 404, 409, 429, 5xx), except where the
# API checks what the document cannot hold: a template's slots, fields and settings schema,
# a tenant's allowed origins, a rollout's rules between its fields (wave_percent or
# wave_size, canary tenants of the template), the tenant and slot an orphan is adopted into.
# There a schema-valid body may still be refused:
# 400, and 422 when the app refuses the credentials, or when none of a run's errors can be
# retried.
_DATA_DEPENDENT = {
    # `error_ids` is a list of unique strings (`uniqueItems`), which schemathesis draws with
    # NUL characters despite `allow-x00: False` below: the API refuses those (400).
    "tenants_runs_errors_resolve": ["400"],
    "tenants_runs_errors_retry": ["400", "422"],
    "tenants_create": ["400"],
    "tenants_partial_update": ["400"],
    "tenants_connect_links_create": ["400"],
    "tenants_connections_update": ["400", "422"],
    "rollouts_create": ["400"],
    "orphans_adopt": ["400"],
    # `since` later than `until`.
    "audit_events_list": ["400"],
    "audit_events_export_csv": ["400"],
    "webhook_events_list": ["400"],
}
_ACCEPTED = ["2xx", "401", "403", "404", "409", "429", "5xx"]

_DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
# A list's `cursor` is any short string to the document, and to the API only one it made
# (another is a 400 naming it): data-dependent wherever a list pages.
for _operations in _DOCUMENT["paths"].values():
    for _operation in _operations.values():
        if any(p.get("name") == "cursor" for p in _operation.get("parameters", [])):
            _DATA_DEPENDENT.setdefault(_operation["operationId"], []).append("400")

schema = schemathesis.openapi.from_dict(
    _DOCUMENT,
    config=SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                # PostgreSQL cannot store NUL, and the API refuses it in every string (400);
                # see the README's API conventions.
                "allow-x00": False,
                # The API key is sent with every request below; schemathesis would otherwise
                # draw Authorization values of its own.
                "with-security-parameters": False,
            },
            "parameters": PINNED,
            "operations": [
                {
                    "include-operation-id": operation_id,
                    "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPTED + also}},
                }
                for operation_id, also in _DATA_DEPENDENT.items()
            ],
        }
    ),
)
load_all_checks()
ALL_CHECKS = CHECKS.get_all()


def _world_make(sandbox) -> tuple[str, str]:
    """The rows the requests act on; (API key, the live tenant's flow id)."""
    sandbox.control.reset()
    seeded = sandbox.control.seed()
    _, key = api_key_create(name="fuzzing host app", scopes=ALL_SCOPES)
    template = IntegrationTemplateFactory(key="shop-to-erp", name="Shop to ERP")
    # Credentials PUT makes the sandbox ping the URL it is given: only loopback URLs pass the
    # slot's fields, so that no generated value makes the sandbox call a host on the network.
    for slot in template.slots:
        for field in slot["fields"]:
            if field["kind"] == "url":
                field["pattern"] = r"http://127\.0\.0\.1:\d+/.*"
    template.save()
    # The document's examples name acme (live: an integration, flows and runs) and acme-42
    # (waiting for credentials).
    acme = TenantFactory(
        external_id="acme", template=template, integration_id=seeded["integrationId"]
    )
    Tenant.objects.filter(pk=acme.pk).update(status=TenantStatus.ACTIVE)
    live = acme
    TenantFactory(external_id="acme-42", template=template)
    now = timezone.now()
    flow_id = seeded["flowIds"][0]
    TenantFlow.objects.create(tenant=live, flow_id=flow_id, name="Orders", refreshed_at=now)
    FlowRun.objects.create(
        tenant=live,
        job_id=RUN_ID,
        flow_id=flow_id,
        status=RunStatus.RUNNING,
        created_at=now,
        synced_at=now,
    )
    FlowRun.objects.create(
        tenant=live,
        job_id=FAILED_RUN_ID,
        flow_id=flow_id,
        status=RunStatus.FAILED,
        created_at=now - timedelta(minutes=5),
        started_at=now - timedelta(minutes=5),
        ended_at=now - timedelta(minutes=4),
        duration_ms=60_000,
        num_error=2,
        synced_at=now,
    )
    job = Job.objects.create(
        id=JOB_ID, tenant=acme, kind=JobKind.PROVISION, requested_by=JobOrigin.API, due_at=now
    )
    JobStep.objects.create(job=job, name="connections", position=1)
    Orphan.objects.create(
        id=ORPHAN_ID,
        kind=OrphanKind.CONNECTION,
        remote_id="5ca1ab1e00000000000000ff",
        name="A connection nobody uses",
        mark="embedded:someone:else",
        reason="No tenant uses it.",
        first_seen_at=now,
        last_seen_at=now,
    )
    endpoint = webhooks.endpoint_create(url="http://127.0.0.1:9/hooks").endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(id=ENDPOINT_ID)
    event = webhooks.event_record(
        tenant=live, event_type=EventType.RUN_FAILED, data={"run_id": RUN_ID}
    )
    with transaction.atomic():  # the delivery's foreign key is checked at the commit
        Event.objects.filter(pk=event.pk).update(id=EVENT_ID)
        WebhookDelivery.objects.filter(endpoint_id=ENDPOINT_ID).update(
            id=DELIVERY_ID, event_id=EVENT_ID
        )
    link = connect_link_create(tenant=acme).link
    ConnectLink.objects.filter(pk=link.pk).update(id=LINK_ID)
    return key, flow_id


@pytest.fixture(scope="module")
def fuzz_target(django_db_setup, django_db_blocker, sandbox, tmp_path_factory):
    """The server and the key the requests use. The world is committed (the server reads it
    from its own connection) and flushed when the module is done."""
    with django_db_blocker.unblock():
        key, flow_id = _world_make(sandbox)
        database_url = _test_database_url()
    server = WebServer(
        env={
            **base_env(),
            "DATABASE_URL": database_url,
            "INTEGRATOR_API_URL": sandbox.api_url,
            "INTEGRATOR_API_TOKEN": sandbox.token,
        },
        log_path=tmp_path_factory.mktemp("fuzzing") / "web.log",
        # As the image runs it (config.gunicorn_conf), with threads so that no request
        # waits for another.
        args=[*gunicorn_options(dockerfile_command()), "--threads", "4"],
    ).start()
    yield server, key, flow_id
    server.stop()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def test_the_fuzzed_document_is_the_one_the_server_serves(fuzz_target):
    server, _, _ = fuzz_target
    served = server.request(
        "GET", "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    assert served.json() == schema.raw_schema


def _steered(case, flow_id: str):
    """The case as a client would send it to this world."""
    if case.path_parameters and "flow_id" in case.path_parameters:
        case.path_parameters["flow_id"] = flow_id
    if case.method == "DELETE" and case.path == "/api/v1/tenants/{external_id}":
        # The document's example deprovisions acme; the second tenant goes instead, so that
        # acme stays live (its flows run) for the operations tested after this one.
        case.path_parameters["external_id"] = "acme-42"
    if isinstance(case.body, dict) and "to_version" in case.body:
        # A version that exists: any other is refused as a bad field (400, as for a tenant's
        # unknown template), which a generator drawing strings would hit every time.
        case.body["to_version"] = "1.0.0"
    if case.headers and "Idempotency-Key" in case.headers:
        # A client sends a new key with each new request; the generator draws keys from a
        # small space and would reuse one for another request (422 idempotency_key_reused).
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    return case


@schema.parametrize()
@settings(
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzzing_finds_nothing(case, fuzz_target):
    server, key, flow_id = fuzz_target
    _steered(case, flow_id).call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {key}"},
        checks=ALL_CHECKS,
        timeout=30,
    )


def test_sequences_of_calls_find_nothing(fuzz_target):
    """Stateful: sequences of calls that feed one answer into the next request (an endpoint
    created, then read, changed, rotated, deleted), every answer under every check."""
    server, key, flow_id = fuzz_target

    class Scenario(schema.as_state_machine()):
        def before_call(self, case):
            _steered(case, flow_id)

        def get_call_kwargs(self, case):
            return {
                "base_url": server.url,
                "headers": {"Authorization": f"Bearer {key}"},
                "timeout": 30,
            }

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=ALL_CHECKS, transport_kwargs=kwargs)

    Scenario.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=DEADLINE,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )

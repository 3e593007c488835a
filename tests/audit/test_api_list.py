"""GET /api/v1/audit-events (filters, pagination, strict query) and its CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.context import Actor, acting_as
from audit.models import AuditEvent
from audit.services import Target, audit_record

pytestmark = pytest.mark.django_db

KEY = Actor.api_key(prefix="Xb3kq9Lm", name="host app")
OPS = Actor.user(user_id=7, username="olivia")
SWEEPER = Actor.system("provisioning.jobs_sweep")


def _record(actor, action, target, **kwargs) -> AuditEvent:
    with acting_as(actor):
        return audit_record(action=action, target=target, **kwargs)


@pytest.fixture
def log(api):
    """The host app's key being made (the `api` persona; by the test process, an unnamed
    system actor), then four events by three actors on two tenants and an endpoint; oldest
    first."""
    return [
        AuditEvent.objects.get(action="api_key.create"),
        _record(KEY, "tenant.create", Target("tenant", "t-acme", "acme"), after={"name": "Acme"}),
        _record(
            OPS,
            "tenant.update",
            Target("tenant", "t-acme", "acme"),
            before={"settings": {"password": "hunter2", "region": "eu"}},
            after={"settings": {"password": "hunter3", "region": "us"}},
        ),
        _record(SWEEPER, "job.fail", Target("job", "j-1", "globex"), after={"status": "failed"}),
        _record(KEY, "webhook_endpoint.rotate_secret", Target("webhookendpoint", "e-1")),
    ]


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_it_lists_events_newest_first_with_who_what_and_when(api, log):
    response = api.get("/api/v1/audit-events")

    assert _ids(response) == [e.pk for e in reversed(log)]
    update = response.json()["results"][2]
    assert update["actor_type"] == "user"
    assert (update["actor_id"], update["actor_name"]) == ("7", "olivia")
    assert (update["action"], update["target_type"], update["target_id"], update["tenant"]) == (
        "tenant.update",
        "tenant",
        "t-acme",
        "acme",
    )
    assert update["changes"] == {
        "settings": {
            "before": {"password": "[REDACTED]", "region": "eu"},
            "after": {"password": "[REDACTED]", "region": "us"},
        }
    }
    assert "hunter" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor_type=api_key", [4, 1]),
        ("actor_type=system", [3, 0]),
        ("actor=olivia", [2]),
        ("actor=Xb3kq9Lm", [4, 1]),
        ("actor=provisioning.jobs_sweep", [3]),
        ("action=tenant.update", [2]),
        ("action=tenant.", [2, 1]),
        ("action=api_key.create", [0]),
        ("target_type=job", [3]),
        ("target_type=tenant&target_id=t-acme", [2, 1]),
        ("tenant=acme", [2, 1]),
        ("tenant=acme&actor_type=user", [2]),
    ],
)
def test_it_filters(api, log, query, expected):
    assert _ids(api.get(f"/api/v1/audit-events?{query}")) == [log[i].pk for i in expected]


def test_it_filters_by_time_range(api, log):
    now = timezone.now()
    earlier = AuditEvent.objects.create(
        created_at=now - timedelta(days=2),
        actor_type="system",
        action="tenant.update",
        target_type="tenant",
        target_id="old",
    )
    since = (now - timedelta(days=3)).isoformat()
    until = (now - timedelta(days=1)).isoformat()

    response = api.get("/api/v1/audit-events", {"since": since, "until": until})
    recent = api.get("/api/v1/audit-events", {"since": until})

    assert _ids(response) == [earlier.pk]
    assert _ids(recent) == [e.pk for e in reversed(log)]


def test_it_pages_with_cursors(api, log):
    first = api.get("/api/v1/audit-events?limit=3")
    second = api.get(first.json()["next"])

    assert _ids(first) == [e.pk for e in reversed(log[2:])]
    assert _ids(second) == [log[1].pk, log[0].pk]
    assert second.json()["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actr_type=user", "actr_type"),
        ("actor_type=robot", "actor_type"),
        ("action=Tenant Update", "action"),
        ("since=yesterday", "since"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
        ("tenant=acme&tenant=globex", "tenant"),
        ("limit=0", "limit"),
    ],
)
def test_it_refuses_unknown_or_bad_filters(api, log, query, field):
    for path, accept in (
        ("/api/v1/audit-events", "application/json"),
        ("/api/v1/audit-events.csv", "text/csv"),
    ):
        # Errors are JSON, even for a caller that asked for CSV.
        response = api.get(f"{path}?{query}", HTTP_ACCEPT=accept)
        assert response.status_code == 400, (path, response.content)
        assert response["Content-Type"] == "application/json"
        assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=tenant", "An action (`tenant.update`), or a target type and a dot (`tenant.`)"),
        ("target_type=Tenant", "A target type in lowercase letters and underscores (`tenant`)"),
    ],
)
def test_a_malformed_action_or_target_type_says_what_it_takes(api, log, query, message):
    """Not "This value does not match the required pattern.", which does not say which."""
    response = api.get(f"/api/v1/audit-events?{query}")

    field = query.split("=")[0]
    assert response.status_code == 400
    assert response.json()["error"]["fields"][field] == [f"{message}."]


def test_a_time_whose_plus_sign_was_not_encoded_says_so(api, log):
    """`since=2026-01-01T10:00:00+01:00` typed into a URL arrives with a space for the `+`:
    "Datetime has wrong format" would send the caller to check a format that was right."""
    response = api.get("/api/v1/audit-events?since=2026-01-01T10:00:00+01:00")

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["since"]
    assert "%2B" in message and "`+`" in message


def test_the_export_is_not_paginated_so_limit_is_unknown_there(api, log):
    response = api.get("/api/v1/audit-events.csv?limit=1")

    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]


def test_it_needs_an_api_key(anonymous_api, log):
    assert anonymous_api.get("/api/v1/audit-events").status_code == 401
    assert anonymous_api.get("/api/v1/audit-events.csv").status_code == 401


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_it_exports_csv_with_the_same_filters(api, log):
    everything = api.get("/api/v1/audit-events.csv")
    acme = api.get("/api/v1/audit-events.csv?tenant=acme", HTTP_ACCEPT="text/csv")

    assert everything["Content-Type"] == "text/csv; charset=utf-8"
    assert everything["Content-Disposition"].startswith('attachment; filename="audit-events-')
    rows = _csv(everything)
    assert [int(row["id"]) for row in rows] == [e.pk for e in reversed(log)]
    assert list(rows[0]) == [
        "id",
        "created_at",
        "actor_type",
        "actor_id",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "tenant",
        "changes",
        "request_id",
    ]
    assert rows[2]["changes"] == (
        '{"settings": {"after": {"password": "[REDACTED]", "region": "us"}, '
        '"before": {"password": "[REDACTED]", "region": "eu"}}}'
    )
    assert [int(row["id"]) for row in _csv(acme)] == [log[2].pk, log[1].pk]


def test_the_export_defuses_spreadsheet_formulas(api):
    _record(
        Actor.connect_link(link_id="l-1", tenant='=HYPERLINK("http://evil")'),
        "connection.submit",
        Target("tenantconnection", "c-1", "acme"),
    )

    [row] = _csv(api.get("/api/v1/audit-events.csv?action=connection.submit"))

    assert row["actor_name"] == '\'=HYPERLINK("http://evil")'


def test_reading_the_log_records_nothing(api, log):
    api.get("/api/v1/audit-events")
    api.get("/api/v1/audit-events.csv")

    assert AuditEvent.objects.count() == len(log)


def test_the_openapi_document_describes_both_operations(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    listed = document["paths"]["/api/v1/audit-events"]["get"]
    exported = document["paths"]["/api/v1/audit-events.csv"]["get"]
    names = {p["name"] for p in listed["parameters"]}
    assert {"actor_type", "actor", "action", "target_type", "target_id", "tenant"} <= names
    assert {"since", "until", "cursor", "limit"} <= names
    assert "text/csv" in exported["responses"]["200"]["content"]
    assert "limit" not in {p["name"] for p in exported["parameters"]}


def test_it_filters_by_request_id(api, log):
    """A log line (or a host developer's error report) names a request by its X-Request-ID:
    what that request changed was found in the admin's search only, not through the API."""
    from core import log_context

    token = log_context.request_id.set("4f9c2a7d1e0b4c3a9e8d7f6a5b4c3d2e")
    try:
        first = _record(KEY, "tenant.update", Target("tenant", "t-acme", "acme"), after={"a": 1})
        second = _record(KEY, "connect_link.create", Target("connect_link", "l-1", "acme"))
    finally:
        log_context.request_id.reset(token)

    response = api.get("/api/v1/audit-events?request_id=4f9c2a7d1e0b4c3a9e8d7f6a5b4c3d2e")
    assert _ids(response) == [second.pk, first.pk]
    assert _ids(api.get("/api/v1/audit-events?request_id=0000")) == []
    exported = api.get("/api/v1/audit-events.csv?request_id=4f9c2a7d1e0b4c3a9e8d7f6a5b4c3d2e")
    body = b"".join(exported.streaming_content).decode()
    assert [row["id"] for row in csv.DictReader(io.StringIO(body))] == [
        str(second.pk),
        str(first.pk),
    ]

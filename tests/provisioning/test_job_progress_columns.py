"""provisioning/job_progress.py writes job rows in SQL it spells out: these tests fail when
its column names and the models drift apart (a renamed field, a new ApiCall column)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provisioning import job_progress
from provisioning.models import ApiCall, Job, JobStep
from tenants.models import Tenant, TenantConnection
from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db

# `name = …`, `name < …`, `name + 1`, `(name, …) VALUES`: every identifier the statements use.
_IDENTIFIER = re.compile(r"\b([a-z_]+)\s*(?:=|<|\+)")
_SQL_WORDS = {"and", "or", "where", "set", "null"}


def _columns(model) -> set[str]:
    return {field.column for field in model._meta.concrete_fields}


def _identifiers(sql: str) -> set[str]:
    return {name for name in _IDENTIFIER.findall(sql) if name not in _SQL_WORDS}


def test_the_api_call_insert_names_every_column_but_the_key():
    assert set(job_progress._API_CALL_COLUMNS) == _columns(ApiCall) - {ApiCall._meta.pk.column}


def test_every_column_the_statements_use_is_a_column_of_their_table():
    tenant = TenantFactory()
    now = timezone.now()
    job = Job.objects.create(tenant=tenant, kind="provision", requested_by="api", due_at=now)
    step = JobStep.objects.create(job=job, name="clone", position=0)
    step.attempts = 1
    with CaptureQueriesContext(connection) as captured:
        assert job_progress.job_claim_row(
            job=job.pk, owner="w", now=now, until=now + timedelta(minutes=1), due_by=now
        )
        job.refresh_from_db()
        assert job_progress.job_lease_renew(
            job=job, generation=job.lease_generation, until=now + timedelta(minutes=2)
        )
        assert job_progress.job_still_held(job=job, generation=job.lease_generation)
        step.status, step.started_at, step.finished_at = "succeeded", now, now
        job_progress.step_write(step=step)
        job_progress.api_calls_insert(
            [ApiCall(job=job, step=step, method="GET", path="/v1/x", duration_ms=1.0, attempt=1)],
            at=now,
        )
    # The ORM's own reads (refresh_from_db, the insert's check) aside.
    statements = [q["sql"] for q in captured.captured_queries if "SELECT 1 FROM" in q["sql"]] + [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SELECT")
    ]
    assert len(statements) == 5
    tables = {Job: statements[:3], JobStep: statements[3:4]}
    for model, sqls in tables.items():
        for sql in sqls:
            assert connection.ops.quote_name(model._meta.db_table) in sql
            assert _identifiers(sql) <= _columns(model), sql
    assert connection.ops.quote_name(ApiCall._meta.db_table) in statements[4]
    assert ApiCall.objects.get().path == "/v1/x"
    step.refresh_from_db()
    assert (step.status, step.attempts, step.finished_at) == ("succeeded", 1, now)


def test_several_steps_are_written_in_one_statement_each_with_its_own_values():
    tenant = TenantFactory()
    now = timezone.now()
    job = Job.objects.create(tenant=tenant, kind="provision", requested_by="api", due_at=now)
    done = JobStep.objects.create(job=job, name="clone", position=0)
    running = JobStep.objects.create(job=job, name="wire", position=1)
    failed = JobStep.objects.create(job=job, name="settings", position=2)
    done.status, done.attempts, done.started_at, done.finished_at = "succeeded", 1, now, now
    done.output = {"integration_id": "abc", "flows": [1, 2]}
    running.status, running.attempts, running.started_at = "running", 2, now
    failed.status, failed.attempts = "failed", 3
    failed.error_code, failed.error_message = "boom", "It broke: 'quotes' and \\ too."

    with CaptureQueriesContext(connection) as captured:
        job_progress.steps_progress_write(steps=[done, running, failed])

    assert len(captured.captured_queries) == 1
    sql = captured.captured_queries[0]["sql"]
    assert _identifiers(sql) <= _columns(JobStep), sql
    rows = {
        s.name: (s.status, s.attempts, s.started_at, s.finished_at, s.output, s.error_message)
        for s in JobStep.objects.filter(job=job)
    }
    assert rows == {
        "clone": ("succeeded", 1, now, now, {"integration_id": "abc", "flows": [1, 2]}, ""),
        "wire": ("running", 2, now, None, {}, ""),
        "settings": ("failed", 3, None, None, {}, "It broke: 'quotes' and \\ too."),
    }


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_claim_and_the_runs_tenant_read_load_exactly_what_the_orm_loads():
    tenant = TenantFactory(settings={"store_id": "acme", "nested": {"a": [1, 2]}})
    now = timezone.now()
    job = Job.objects.create(tenant=tenant, kind="provision", requested_by="api", due_at=now)

    claimed = job_progress.job_claim_row(
        job=job.pk, owner="w", now=now, until=now + timedelta(minutes=1), due_by=now
    )
    loaded = job_progress.tenant_for_run(tenant_pk=tenant.pk)

    assert _fields(claimed) == _fields(Job.objects.get(pk=job.pk))
    assert (claimed.status, claimed.lease_generation, claimed.lease_owner) == ("running", 1, "w")
    expected = Tenant.objects.select_related("template_version__template", "account").get(
        pk=tenant.pk
    )
    with CaptureQueriesContext(connection) as captured:
        pairs = [
            (loaded, expected),
            (loaded.template_version, expected.template_version),
            (loaded.template_version.template, expected.template_version.template),
            (loaded.account, expected.account),
        ]
    assert captured.captured_queries == []  # every related row came with the one statement
    for got, want in pairs:
        assert type(got) is type(want)
        assert _fields(got) == _fields(want), type(got).__name__
    assert loaded.settings == {"store_id": "acme", "nested": {"a": [1, 2]}}
    assert loaded.template_version.slots  # JSON decoded, not text
    assert job_progress.tenant_for_run(tenant_pk=tenant.pk + 1000) is None
    # A claim that does not take the job returns nothing (held by the first one).
    assert (
        job_progress.job_claim_row(
            job=job.pk, owner="x", now=now, until=now + timedelta(minutes=1), due_by=now
        )
        is None
    )


def test_the_runs_reads_load_what_the_orm_loads():
    tenant = TenantFactory(settings={"store_id": "acme", "nested": {"a": [1, 2]}})
    other = TenantFactory()
    now = timezone.now()
    job = Job.objects.create(tenant=tenant, kind="provision", requested_by="api", due_at=now)
    JobStep.objects.create(job=job, name="wire", position=1)
    JobStep.objects.create(job=job, name="clone", position=0, output={"tag": "t1", "n": [1]})
    earlier = Job.objects.create(
        tenant=tenant, kind="provision", requested_by="api", due_at=now, status="succeeded"
    )
    JobStep.objects.create(job=earlier, name="clone", position=0, output={"tag": "t0"})
    others = Job.objects.create(tenant=other, kind="provision", requested_by="api", due_at=now)
    JobStep.objects.create(job=others, name="clone", position=0, output={"tag": "x"})
    TenantConnection.objects.filter(tenant=tenant).update(connection_id="c1", status="ok")
    TenantConnection.objects.filter(tenant=other).update(connection_id="c9", status="ok")

    with CaptureQueriesContext(connection) as captured:
        steps = job_progress.job_steps(job=job)
        settings = job_progress.tenant_settings(tenant_pk=tenant.pk)
        rows = job_progress.tenant_connection_rows(tenant_pk=tenant.pk)
        outputs = job_progress.clone_step_outputs(tenant_pk=tenant.pk)
        assert steps[0].job is job  # no read of the job it belongs to
    assert len(captured.captured_queries) == 4
    for query, model in zip(
        captured.captured_queries, (JobStep, Tenant, TenantConnection, JobStep), strict=True
    ):
        assert _identifiers(query["sql"]) <= _columns(model) | _columns(Job), query["sql"]

    assert [_fields(s) for s in steps] == [
        _fields(s) for s in JobStep.objects.filter(job=job).order_by("position")
    ]
    assert settings == {"store_id": "acme", "nested": {"a": [1, 2]}}
    assert sorted(rows) == sorted(
        TenantConnection.objects.filter(tenant=tenant).values_list(
            "slot_key", "status", "connection_id"
        )
    )
    assert rows and all(row[1:] == ("ok", "c1") for row in rows)  # the tenant's, not the other's
    assert sorted(o["tag"] for o in outputs) == ["t0", "t1"]
    assert {"tag": "t1", "n": [1]} in outputs  # JSON decoded, not text
    with pytest.raises(Tenant.DoesNotExist):
        job_progress.tenant_settings(tenant_pk=tenant.pk + 1000)


def test_the_locked_tenant_read_loads_what_the_orm_loads_and_locks_the_row():
    tenant = TenantFactory(settings={"store_id": "acme"})

    with CaptureQueriesContext(connection) as captured:
        locked = job_progress.tenant_row_locked(tenant_pk=tenant.pk)
    [query] = captured.captured_queries
    assert query["sql"].endswith("FOR UPDATE")
    assert _identifiers(query["sql"]) <= _columns(Tenant), query["sql"]

    expected = Tenant.objects.get(pk=tenant.pk)
    loaded = {f.attname for f in Tenant._meta.concrete_fields} - locked.get_deferred_fields()
    assert {"id", "external_id", "incarnation", "status", "template_version_id"} <= loaded
    assert "settings" not in loaded  # the rest deferred, as with only()
    assert {name: getattr(locked, name) for name in loaded} == {
        name: getattr(expected, name) for name in loaded
    }
    with pytest.raises(Tenant.DoesNotExist):
        job_progress.tenant_row_locked(tenant_pk=tenant.pk + 1000)

"""The tenant view's SQL also runs on SQLite, the database of `make run`.

The suite runs on PostgreSQL; this test migrates a throw-away SQLite file in a subprocess and
checks there what SQLite returns differently from PostgreSQL to raw SQL (datetimes, UUIDs,
JSON, LIKE, row-value comparisons): the view must equal what the ORM reads.
"""

import json

from tests.config.test_settings import run_manage

SCRIPT = """
import json
from django.utils import timezone
from provisioning.models import Job
from api import tenant_status_view as selectors
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import Tenant, TenantConnection
from api.tenant_serializers import TenantOutput, job_summary
from tenants.services import template_document_read, template_load, tenant_create

template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
for n in range(5):
    tenant_create(
        external_id=f"t-{n}", name=f"Customer {n} 1{n}%_off", template=template,
        settings={"store_id": f"store-{n}"},
    )
tenant = Tenant.objects.get(external_id="t-3")
TenantConnection.objects.filter(tenant=tenant, slot_key="shop").update(
    status="ok", connection_id="c-3", last_ping_at=timezone.now(),
    field_values={"base_url": "https://shop.example.com"},
)
done = Job.objects.create(
    tenant=tenant, kind="provision", status="succeeded", requested_by="api",
    due_at=timezone.now(), finished_at=timezone.now(),
)
running = Job.objects.create(
    tenant=tenant, kind="settings", status="running", requested_by="api", due_at=timezone.now()
)
Tenant.objects.filter(pk=tenant.pk).update(latest_job=running, previous_job=done)

def walk(**kwargs):
    return [view["external_id"] for view in selectors.tenant_views_page(limit=2, **kwargs)]

third = Tenant.objects.get(external_id="t-2")
tenant.refresh_from_db()
connection = TenantConnection.objects.get(tenant=tenant, slot_key="shop")
print(json.dumps({
    "view": TenantOutput(selectors.tenant_view(external_id="t-3")).data,
    "orm": {
        "status_changed_at": tenant.status_changed_at.isoformat(),
        "created_at": tenant.created_at.isoformat(),
        "last_ping_at": connection.last_ping_at.isoformat(),
        "current_job": job_summary(Job.objects.filter(pk=running.pk).values().get()),
        "last_job": job_summary(Job.objects.filter(pk=done.pk).values().get()),
    },
    "first": walk(),
    "after": walk(after=(third.created_at, third.pk)),
    "before": walk(before=(third.created_at, third.pk)),
    "search": walk(search="3%_OFF"),
    "search_literal": walk(search="r 1_"),
    "filtered": walk(status="awaiting_credentials", template_key=template.key),
}))
"""


def test_the_tenant_view_reads_the_same_on_sqlite(tmp_path):
    env = {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    migrated = run_manage(["migrate", "--noinput"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    result = run_manage(["shell", "-c", SCRIPT], env, tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])

    view, orm = out["view"], out["orm"]
    assert view["external_id"] == "t-3"
    assert view["settings_overrides"] == {"store_id": "store-3"}
    assert view["settings"]["sync_interval_minutes"] == 15  # a template default
    assert view["allowed_origins"] == []
    assert view["created_at"] == orm["created_at"].replace("+00:00", "Z")
    assert view["status_changed_at"] == orm["status_changed_at"].replace("+00:00", "Z")
    shop = next(c for c in view["connections"] if c["slot"] == "shop")
    assert shop["status"] == "ok"
    assert shop["fields"] == {"base_url": "https://shop.example.com"}
    assert shop["last_ping_at"] == orm["last_ping_at"].replace("+00:00", "Z")
    assert view["current_job"] == orm["current_job"]
    assert view["last_job"] == orm["last_job"]
    assert out["first"] == ["t-4", "t-3"]
    assert out["after"] == ["t-1", "t-0"]
    assert out["before"] == ["t-3", "t-4"]  # nearest the position first
    assert out["search"] == ["t-3"]
    assert out["search_literal"] == []  # "_" is not a wildcard
    assert out["filtered"] == ["t-4", "t-3"]

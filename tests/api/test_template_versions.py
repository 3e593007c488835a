"""/api/v1/templates/{key}/versions: list, retrieve, compare and retire published versions."""

import json

import pytest
import yaml

from tenants.models import TemplateVersion
from tenants.services import template_load, tenant_create
from tests.fixtures.factories import DEMO_TEMPLATE
from tests.fixtures.template_snapshots import demo_snapshot

pytestmark = pytest.mark.django_db

VERSIONS = "/api/v1/templates/shop-to-erp/versions"


@pytest.fixture
def published():
    """The demo template's 1.0.0 (with a snapshot) and 1.1.0 (with the evolved one)."""
    template, _ = template_load(
        document=json.loads(json.dumps(DEMO_TEMPLATE)), snapshot=demo_snapshot("1.0.0")
    )
    with open("tenants/template_files/shop-to-erp-1.1.0.yaml") as file:
        newer = yaml.safe_load(file)
    # A tenant built to 1.0.0, then 1.1.0 is published: it stays on 1.0.0.
    tenant_create(external_id="acme", name="Acme", template=template)
    template, _ = template_load(document=newer, snapshot=demo_snapshot("1.1.0"))
    return template


def test_it_lists_versions_newest_first(api, published):
    response = api.get(VERSIONS)
    assert response.status_code == 200
    newest, oldest = response.json()["results"]
    assert (newest["version"], oldest["version"]) == ("1.1.0", "1.0.0")
    assert (newest["tenants"], oldest["tenants"]) == (0, 1)
    assert (newest["current"], oldest["current"]) == (True, False)
    assert (newest["flows"], oldest["flows"]) == (4, 3)
    assert newest["has_snapshot"] is True
    assert newest["retired_at"] is None
    assert len(newest["digest"]) == 64
    assert newest["published_at"].endswith("Z")


def test_a_versions_tenants_leave_out_the_deprovisioned(api, admin_client, published):
    """A deprovisioned tenant (the current incarnation, not registered again) is on no version
    any more: counted, it made an unused version look used to whoever was about to retire it.
    A tenant awaiting credentials counts: it will be built to its version."""
    from tenants.models import Tenant, TenantStatus

    for external_id, status in (
        ("gone", TenantStatus.DEPROVISIONED),
        ("leaving", TenantStatus.DEPROVISIONING),
        ("live", TenantStatus.ACTIVE),
    ):
        tenant_create(external_id=external_id, name=external_id, template=published)
        Tenant.objects.filter(external_id=external_id).update(status=status)
    tenants = {row["version"]: row["tenants"] for row in api.get(VERSIONS).json()["results"]}
    # acme (awaiting credentials, 1.0.0) and live (1.1.0); not gone, nor leaving.
    assert tenants == {"1.0.0": 1, "1.1.0": 1}
    assert api.get(f"{VERSIONS}/1.1.0").json()["tenants"] == 1
    listing = admin_client.get("/admin/tenants/templateversion/?o=2").content.decode()
    assert '<td class="field-tenant_count">1</td>' in listing
    assert '<td class="field-tenant_count">3</td>' not in listing


def test_it_retrieves_a_version_with_its_snapshot_in_brief(api, published):
    response = api.get(f"{VERSIONS}/1.1.0")
    assert response.status_code == 200
    body = response.json()
    assert [slot["key"] for slot in body["slots"]] == ["shop", "erp"]
    assert "refunds" in body["settings_schema"]["properties"]["flows"]["properties"]
    assert body["settings_mapping"][-1]["path"] == "refundSync.lookbackDays"
    # What its customers may change on their integration page.
    assert body["portal"]["flows"] == ["flows.customers", "flows.stock", "flows.refunds"]
    assert "refund_lookback_days" in body["portal"]["settings"]
    snapshot = body["snapshot"]
    assert snapshot["integration_id"] == "5eed00000000000000000a01"
    assert snapshot["flows"][-1] == {
        "_id": "5eed00000000000000000f04",
        "name": "Shop refunds to ERP credit memos",
        "steps": ["5eed00000000000000000e04", "5eed00000000000000000d04"],
    }
    assert snapshot["exports"][0]["connection_id"] == "5eed00000000000000000c01"
    # Ids and names only: no document (and no field that could hold a secret) is shown.
    assert "http" not in json.dumps(snapshot["exports"])


def test_a_version_published_offline_has_no_snapshot(api):
    template_load(document=json.loads(json.dumps(DEMO_TEMPLATE)))
    [listed] = api.get(VERSIONS).json()["results"]
    assert (listed["has_snapshot"], listed["flows"]) == (False, 0)
    assert api.get(f"{VERSIONS}/1.0.0").json()["snapshot"] is None


def test_it_compares_two_versions(api, published):
    response = api.get(f"{VERSIONS}/1.0.0/diff/1.1.0")
    assert response.status_code == 200
    body = response.json()
    assert (body["template"], body["version_from"], body["version_to"]) == (
        "shop-to-erp",
        "1.0.0",
        "1.1.0",
    )
    assert [flow["_id"] for flow in body["flows"]["added"]] == ["5eed00000000000000000f04"]
    assert body["exports"]["changed"][0]["fields"] == ["http.relativeURI"]
    assert body["settings_schema"]["added"] == ["flows.refunds", "refund_lookback_days"]
    assert len(body["settings_mapping"]["added"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/templates/nope/versions",
        "/api/v1/templates/shop-to-erp/versions/9.9.9",
        "/api/v1/templates/shop-to-erp/versions/1.0.0/diff/9.9.9",
        "/api/v1/templates/shop-to-erp/versions/9.9.9/diff/1.0.0",
    ],
)
def test_an_unknown_template_or_version_is_404(api, published, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] in ("template_not_found", "template_version_not_found")


def test_it_retires_an_older_version_once(api, published):
    response = api.post(f"{VERSIONS}/1.0.0/retire")
    assert response.status_code == 200, response.json()
    retired_at = response.json()["retired_at"]
    assert retired_at is not None
    assert response.json()["tenants"] == 1  # its tenants stay on it
    again = api.post(f"{VERSIONS}/1.0.0/retire")
    assert again.json()["retired_at"] == retired_at
    assert TemplateVersion.objects.get(version="1.0.0").retired_at is not None


def test_retiring_records_only_what_changed(api, published):
    """The audit entry's changes are the fields that changed: the template is not one of
    them (it was listed as changed from null to its key)."""
    from audit.models import AuditEvent

    api.post(f"{VERSIONS}/1.0.0/retire")
    event = AuditEvent.objects.get(action="template_version.retire")
    assert list(event.changes) == ["retired_at"]
    assert event.changes["retired_at"]["before"] is None
    assert event.target_id == str(TemplateVersion.objects.get(version="1.0.0").pk)


def test_the_current_version_cannot_be_retired(api, published):
    response = api.post(f"{VERSIONS}/1.1.0/retire")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "template_version_current"
    assert "publish a newer version first" in response.json()["error"]["message"]
    assert TemplateVersion.objects.get(version="1.1.0").retired_at is None
    assert api.post(f"{VERSIONS}/9.9.9/retire").status_code == 404


def test_the_admin_shows_versions_read_only_with_their_snapshot(admin_client, published):
    listing = admin_client.get("/admin/tenants/templateversion/").content.decode()
    assert "4 flows, 4 exports, 4 imports" in listing
    version = TemplateVersion.objects.get(version="1.1.0")
    page = admin_client.get(f"/admin/tenants/templateversion/{version.pk}/change/")
    assert page.status_code == 200
    assert "Shop refunds to ERP credit memos" in page.content.decode()
    assert admin_client.get("/admin/tenants/templateversion/add/").status_code == 403


def test_the_demo_templates_help_names_the_sandbox_address_as_the_form_does(
    api, published, settings
):
    """The README's tour publishes shop-to-erp 1.1.0 with `manage.py load_template`; its help
    texts name the demo apps as `{sandbox_url}/_demo/shop`, which the credential form fills
    with the sandbox's address. `GET /templates/shop-to-erp` (and the version) showed the
    literal `{sandbox_url}`: a host app building its own form from it showed the placeholder
    to its customers."""
    settings.INTEGRATOR_API_URL = "http://127.0.0.1:8123/v1"
    settings.SANDBOX_PUBLIC_URL = ""

    for path in ("/api/v1/templates/shop-to-erp", f"{VERSIONS}/1.1.0"):
        body = api.get(path).content.decode()

        assert "{sandbox_url}" not in body, path
        assert "http://127.0.0.1:8123/_demo/shop" in body, path
        assert "http://127.0.0.1:8123/_demo/erp" in body, path


def test_an_upgrade_before_the_tenant_is_built_says_which_version_it_will_be_built_to(
    api, published
):
    """acme awaits its credentials on 1.0.0 when 1.1.0 is published. Moving it was refused
    with "it is built to the newest version when it is provisioned", and once its credentials
    worked it was built to 1.0.0, its own version, as `template.version` said. The refusal
    says that version, and how to move it."""
    response = api.post("/api/v1/tenants/acme/upgrade", {"to_version": "1.1.0"}, format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "job_not_allowed"
    assert "newest" not in error["message"]
    assert "its own version, 1.0.0" in error["message"]
    assert "once it is live" in error["message"]
    tenant = api.get("/api/v1/tenants/acme").json()["template"]
    assert (tenant["version"], tenant["upgrade_available"]) == ("1.0.0", "1.1.0")

"""The ops admin for templates and tenants."""

import copy
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.connect_links import connect_link_create, connect_link_resolve
from tenants.errors import ConnectLinkInvalid
from tenants.models import (
    CallPurpose,
    ConnectionStatus,
    ConnectLink,
    IntegrationTemplate,
    TenantCallCount,
    TenantConnection,
    TenantStatus,
)
from tests.fixtures.factories import DEMO_TEMPLATE, TenantFactory

pytestmark = pytest.mark.django_db

TENANTS = "/admin/tenants/tenant/"


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_the_tenant_list_shows_badges_and_health_without_n_plus_1(admin_client, template):
    tenant = TenantFactory(template=template, external_id="healthy")
    TenantConnection.objects.filter(tenant=tenant).update(status=ConnectionStatus.OK)
    few, _ = count_queries(admin_client, TENANTS)
    TenantFactory.create_batch(20, template=template)
    many, response = count_queries(admin_client, TENANTS)
    assert many == few
    html = response.content.decode()
    assert "Awaiting credentials" in html and "2/2 ok" in html and "0/2 ok" in html
    assert "shop-to-erp v1.0.0" in html


def test_a_tenants_page_names_its_template_without_another_version(admin_client, template):
    """The template's newest version is not the tenant's: its page said "Template: Shop to ERP
    (shop-to-erp v1.1.0)" above "Template version: shop-to-erp v1.0.0"."""
    tenant = TenantFactory(template=template, external_id="acme")
    IntegrationTemplate.objects.filter(pk=template.pk).update(version="1.1.0")

    page = admin_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()

    row = page.split('"form-row field-template"')[1].split("form-row")[0]
    assert f"({template.key})" in row and "v1.1.0" not in row
    assert f"{template.key} v1.0.0" in page.split("field-template_version")[1]


def test_the_tenant_list_filters_and_searches(admin_client, acme, globex):
    globex.status = TenantStatus.ACTIVE
    globex.save()
    html = admin_client.get(TENANTS, {"status__exact": "active"}).content.decode()
    assert "globex" in html and "acme" not in html.split("result_list")[1]
    html = admin_client.get(TENANTS, {"q": "Acme"}).content.decode()
    assert "Acme Ltd" in html and "Globex Corp" not in html


def test_the_tenant_page_validates_settings(admin_client, acme):
    url = f"{TENANTS}{acme.pk}/change/"
    page = admin_client.get(url)
    assert (
        page.status_code == 200
        and "Connections (secrets are never stored)" in page.content.decode()
    )
    bad = admin_client.post(
        url,
        {
            "name": "Acme Ltd",
            "settings": '{"sync_interval_minutes": 2}',
            "allowed_origins": '["https://app.example.com"]',
            "connections-TOTAL_FORMS": "2",
            "connections-INITIAL_FORMS": "2",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
        },
    )
    assert bad.status_code == 200 and "sync_interval_minutes" in bad.content.decode()
    good = admin_client.post(
        url,
        {
            "name": "Acme Renamed",
            "settings": '{"sync_interval_minutes": 60}',
            "allowed_origins": '["https://APP.example.com"]',
            "connections-TOTAL_FORMS": "2",
            "connections-INITIAL_FORMS": "2",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
            "connections-0-id": str(acme.connections.get(slot_key="erp").pk),
            "connections-0-tenant": str(acme.pk),
            "connections-1-id": str(acme.connections.get(slot_key="shop").pk),
            "connections-1-tenant": str(acme.pk),
        },
    )
    assert good.status_code == 302, good.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.name == "Acme Renamed"
    assert acme.settings == {"sync_interval_minutes": 60}
    assert acme.allowed_origins == ["https://app.example.com"]


def test_the_deprovision_action_queues_a_deprovision_job(admin_client, acme):
    # It asks first (tests/provisioning/test_admin.py); "post" is the confirmation.
    admin_client.post(
        TENANTS, {"action": "request_deprovision", "_selected_action": [acme.pk], "post": "yes"}
    )
    acme.refresh_from_db()
    assert acme.status == TenantStatus.DEPROVISIONING
    job = acme.jobs.get()
    assert (job.kind, job.status, job.requested_by) == ("deprovision", "queued", "admin")
    page = admin_client.get(f"{TENANTS}{acme.pk}/change/").content.decode()
    assert f"/admin/provisioning/job/{job.pk}/change/" in page  # the jobs inline links it
    listing = admin_client.get(TENANTS).content.decode()
    assert "deprovision: queued" in listing  # the last-job column


def test_the_template_admin_refuses_invalid_slots(admin_client, template):
    slots = copy.deepcopy(DEMO_TEMPLATE["slots"])
    slots[0]["fields"][0]["kind"] = "file"
    data = _template_form(template, version="2", slots=json.dumps(slots))
    response = admin_client.post(f"/admin/tenants/integrationtemplate/{template.pk}/change/", data)
    assert response.status_code == 200
    assert "slots.0.fields.0.kind" in response.content.decode()
    assert IntegrationTemplate.objects.get(pk=template.pk).version == "1.0.0"


def _template_form(template, **changes) -> dict:
    return {
        "key": template.key,
        "name": template.name,
        "description": "",
        "source_integration_id": template.source_integration_id,
        "version": template.version,
        "is_active": "on",
        "slots": json.dumps(template.slots),
        "settings_schema": json.dumps(template.settings_schema),
        "translations": "{}",
        **changes,
    }


def test_the_template_admin_edits_translations_and_refuses_malformed_ones(admin_client, template):
    change = f"/admin/tenants/integrationtemplate/{template.pk}/change/"

    refused = admin_client.post(
        change, _template_form(template, translations=json.dumps({"German": {"Shop": "x"}}))
    )
    assert refused.status_code == 200
    assert "translations: &#x27;German&#x27; does not match" in refused.content.decode()
    assert IntegrationTemplate.objects.get(pk=template.pk).translations == {}

    texts = {"de": {"Shop": "Onlineshop"}}
    saved = admin_client.post(change, _template_form(template, translations=json.dumps(texts)))
    assert saved.status_code == 302
    assert IntegrationTemplate.objects.get(pk=template.pk).translations == texts


def test_the_api_key_admin_is_there(admin_client):
    assert admin_client.get("/admin/rest_framework_api_key/apikey/").status_code == 200


def test_revoking_links_asks_first_and_says_what_it_revoked(admin_client, acme):
    live = connect_link_create(tenant=acme, slot_key="shop")
    other = connect_link_create(tenant=acme)
    selected = {"action": "revoke", "_selected_action": [live.link.pk, other.link.pk]}

    question = admin_client.post("/admin/tenants/connectlink/", selected)

    assert question.status_code == 200
    html = question.content.decode()
    assert "Revoke 2 connect links?" in html
    assert "acme" in html and "shop" in html
    assert live.token not in html
    assert ConnectLink.objects.filter(revoked_at__isnull=False).count() == 0

    done = admin_client.post(
        "/admin/tenants/connectlink/", {**selected, "post": "yes"}, follow=True
    )

    assert ConnectLink.objects.filter(revoked_at__isnull=False).count() == 2
    assert "Revoked 2 connect links of acme." in done.content.decode()
    assert connect_link_resolve_fails(live.token)


def test_revoking_an_integration_page_link_says_it_closes_that_page(admin_client, acme):
    """A link with sections opens the customer's integration page: the question said it was
    a credential form "for every slot", and only that credentials could no longer be entered."""
    portal = connect_link_create(tenant=acme, sections=["connections", "settings", "runs"])
    selected = {"action": "revoke", "_selected_action": [portal.link.pk]}

    html = admin_client.post("/admin/tenants/connectlink/", selected).content.decode()

    assert "every slot" not in html
    assert "the integration page (connections, settings, runs)" in html
    assert "can no longer open the credential form or the integration page" in html


def connect_link_resolve_fails(token: str) -> bool:
    try:
        connect_link_resolve(token)
    except ConnectLinkInvalid:
        return True
    return False


def test_a_template_with_published_versions_offers_no_delete(admin_client, template):
    """Its delete page could only say that the person lacked the permission to delete
    template versions, which nobody may delete; a template is retired instead."""
    assert template.versions.exists()
    change = f"/admin/tenants/integrationtemplate/{template.pk}/change/"

    page = admin_client.get(change)
    refused = admin_client.get(f"/admin/tenants/integrationtemplate/{template.pk}/delete/")

    assert page.status_code == 200
    assert f"/admin/tenants/integrationtemplate/{template.pk}/delete/" not in page.content.decode()
    assert refused.status_code == 403


def test_the_tenant_page_refuses_two_allowed_origins_that_are_the_same_origin(admin_client, acme):
    # Merged silently into one, as the API did: refused now, in the API's words.
    url = f"{TENANTS}{acme.pk}/change/"
    before = acme.allowed_origins
    response = admin_client.post(
        url,
        {
            "name": "Acme Ltd",
            "settings": "{}",
            "allowed_origins": '["https://App.example.com", "https://app.example.com"]',
            "connections-TOTAL_FORMS": "0",
            "connections-INITIAL_FORMS": "0",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "which item 0 gives already; give each origin once." in response.content.decode()
    acme.refresh_from_db()
    assert acme.allowed_origins == before


def test_the_tenant_list_says_and_filters_which_account_each_tenant_is_on(admin_client, template):
    """With tenants in the US and the EU, the list named neither account nor region and could
    not be narrowed to one account's tenants (an EU outage: whose integrations wait?), though
    the template and orphan lists filter by account."""
    from core.accounts import integrator_account_save
    from tests.fixtures.factories import IntegrationTemplateFactory

    eu = integrator_account_save(key="eu-main", name="EU", region="eu", token="eu-admin-token")
    eu_template = IntegrationTemplateFactory(key="shop-to-erp-eu", account=eu)
    TenantFactory(template=template, account=template.account, external_id="acme-us")
    TenantFactory(template=eu_template, account=eu, external_id="acme-eu")

    listing = admin_client.get(TENANTS).content.decode()
    only_eu = admin_client.get(TENANTS, {"account__id__exact": eu.pk}).content.decode()

    assert f"?account__id__exact={eu.pk}" in listing
    rows = listing.split('id="result_list"')[1]
    assert "acme-eu" in rows and "eu-main (eu)" in rows
    assert f"{template.account.key} ({template.account.region})" in rows
    rows = only_eu.split('id="result_list"')[1]
    assert "acme-eu" in rows and "acme-us" not in rows


@pytest.mark.parametrize("status", [TenantStatus.DEPROVISIONING, TenantStatus.DEPROVISIONED])
def test_a_deprovisioned_tenants_page_offers_no_save_and_a_post_changes_nothing(
    admin_client, acme, status
):
    """Its page offered the name, settings and origins with Save, and Save answered 500
    (TenantGone: "The tenant is deprovisioned; it can no longer be changed.")."""
    acme.status = status
    acme.save(update_fields=["status"])
    url = f"{TENANTS}{acme.pk}/change/"

    page = admin_client.get(url).content.decode()
    assert 'name="_save"' not in page and 'name="name"' not in page

    response = admin_client.post(
        url,
        {
            "name": "Acme Renamed",
            "settings": "{}",
            "allowed_origins": "[]",
            "connections-TOTAL_FORMS": "0",
            "connections-INITIAL_FORMS": "0",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme Ltd"


def test_revoking_links_names_those_it_leaves_and_why(admin_client, acme, globex):
    """With a revoked and an expired link among the selection, the question said only "2 of
    the selected links already no longer work; they are left as they are" (of one link too:
    "1 ... works; they are"), naming neither nor why, and the answer said nothing of them."""
    from django.utils import timezone

    live = connect_link_create(tenant=acme)
    revoked = connect_link_create(tenant=acme)
    ConnectLink.objects.filter(pk=revoked.link.pk).update(revoked_at=timezone.now())
    expired = connect_link_create(tenant=globex)
    ConnectLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now())
    selected = {
        "action": "revoke",
        "_selected_action": [live.link.pk, revoked.link.pk, expired.link.pk],
    }

    html = admin_client.post("/admin/tenants/connectlink/", selected).content.decode()

    assert "Revoke 1 connect link?" in html
    assert "they are left as they are" not in html
    assert (
        f"Not revoked: connect link {str(revoked.link.pk)[:8]} of acme is revoked already." in html
    )
    assert f"Not revoked: connect link {str(expired.link.pk)[:8]} of globex has expired." in html
    assert ConnectLink.objects.get(pk=expired.link.pk).revoked_at is None


def test_an_existing_templates_key_cannot_be_renamed_in_the_admin(admin_client, template):
    """The host app registers tenants by the key ({"template": key}), and tenants, versions
    and rollouts refer to it: the page offered it in a text box, and a rename saved broke the
    host app's registrations without a word. It is read only once the template exists; a new
    template's page still asks for it."""
    change = f"/admin/tenants/integrationtemplate/{template.pk}/change/"
    old = template.key

    page = admin_client.get(change).content.decode()
    saved = admin_client.post(change, _template_form(template, key="renamed", name="Renamed"))

    assert 'name="key"' not in page
    assert old in page
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.key == old
    assert template.name == "Renamed"  # the rest of the page still saves
    added = admin_client.get("/admin/tenants/integrationtemplate/add/").content.decode()
    assert 'name="key"' in added


def test_a_connect_links_page_offers_no_save_as_nothing_on_it_can_change(admin_client, acme):
    """Every field of a link is read only (revoking is the list's action, which asks first),
    yet its page showed Save and "Save and continue editing", which saved nothing; it shows
    neither, as an audit event's page does, and a post is refused."""
    link = connect_link_create(tenant=acme, slot_key="shop").link
    url = f"/admin/tenants/connectlink/{link.pk}/change/"

    page = admin_client.get(url)
    posted = admin_client.post(url, {})

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "acme" in html and "shop" in html  # still shown, read only
    assert posted.status_code == 403


def test_a_templates_page_shows_its_read_only_key_first(admin_client, template):
    """Read only, the key went to the foot of the page, below the slots and the schema: the
    first thing an operator looks for on a template's page was the last on it."""
    html = admin_client.get(f"/admin/tenants/integrationtemplate/{template.pk}/change/")
    html = html.content.decode()

    key_row, name_row = html.index("field-key"), html.index("field-name")
    assert key_row < name_row < html.index("field-slots")


def test_calls_for_credentials_handed_over_by_the_api_are_not_said_to_be_the_forms(
    admin_client, acme
):
    """Credentials checked for the host app (PUT .../connections/{slot}) count under the same
    purpose as the customer's form: the tenant's page called them all 'Credential form', so a
    tenant whose customer never opened a form seemed to have used one."""
    TenantCallCount.objects.create(
        tenant=acme, purpose=CallPurpose.FORM, day=timezone.now().date(), calls=4
    )

    page = admin_client.get(f"{TENANTS}{acme.pk}/change/").content.decode()

    assert "<li>Credentials (form or API): 4</li>" in page
    assert "Credential form" not in page


def test_one_call_is_said_in_the_singular(admin_client, acme):
    """A tenant whose credentials were tried once read '1 calls (<0.01% of the account's
    budget ...)'."""
    TenantCallCount.objects.create(
        tenant=acme, purpose=CallPurpose.FORM, day=timezone.now().date(), calls=1
    )

    page = admin_client.get(f"{TENANTS}{acme.pk}/change/").content.decode()

    assert "1 call (" in page
    assert "1 calls" not in page


def test_a_tenant_in_the_call_ranking_opens_its_own_page_with_its_calls(admin_client, acme):
    """A row of 'Tenants by integrator.io calls' opened a bare copy of the tenant's fields
    (no calls at all, 'Version pinned' empty) instead of the tenant's page, whose section says
    what the calls were for."""
    TenantCallCount.objects.create(
        tenant=acme, purpose=CallPurpose.SYNC, day=timezone.now().date(), calls=7
    )
    tenant_page = f"{TENANTS}{acme.pk}/change/"

    ranking = admin_client.get("/admin/tenants/tenantcallranking/").content.decode()
    row_page = admin_client.get(f"/admin/tenants/tenantcallranking/{acme.pk}/change/")

    assert f'href="{tenant_page}"' in ranking
    assert "/admin/tenants/tenantcallranking/" not in ranking.split("<tbody>", 1)[1]
    assert row_page.status_code == 302 and row_page["Location"] == tenant_page
    assert "<li>Run sync: 7</li>" in admin_client.get(tenant_page).content.decode()


def test_the_tenant_list_finds_a_tenant_by_its_integration_id(admin_client, acme, globex):
    """integrator.io names a tenant's integration by its id (in its own pages, an orphan, a
    run's error, a log line): searched for in the tenant list, it found nothing, as the search
    read only the external id and the name."""
    acme.integration_id = "6b10406340899fcd43a3aae8"
    acme.status = TenantStatus.ACTIVE
    acme.save()

    html = admin_client.get(TENANTS, {"q": "6b10406340899fcd43a3aae8"}).content.decode()

    rows = html.split('id="result_list"', 1)[-1]
    assert "<strong>acme</strong>" in rows and "<strong>globex</strong>" not in rows


def test_the_template_list_counts_each_templates_current_tenants_in_one_query(admin_client):
    """The template list's Tenants counted every row ever registered with the template:
    deprovisioned tenants and earlier incarnations of re-registered ones too, where its
    versions' list (and the API's) count the tenants on it. It counts those, by annotation,
    the same queries for many templates as for one."""
    from django.utils.html import escape

    from tests.fixtures.factories import IntegrationTemplateFactory

    listing = "/admin/tenants/integrationtemplate/"
    one = IntegrationTemplateFactory(key="one-template")
    TenantFactory.create_batch(2, template=one)
    TenantFactory(template=one, status=TenantStatus.DEPROVISIONED)
    TenantFactory(template=one, superseded_at=timezone.now(), incarnation=1)
    few, _ = count_queries(admin_client, listing)
    for n in range(5):
        TenantFactory.create_batch(n, template=IntegrationTemplateFactory(key=f"more-{n}"))
    many, response = count_queries(admin_client, listing)

    assert many == few
    html = response.content.decode()
    row = html.split(escape("one-template"))[1].split("</tr>")[0]
    assert '<td class="field-tenant_count">2</td>' in row

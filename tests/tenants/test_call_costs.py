"""integrator.io calls counted per tenant and purpose: by jobs, the form and run sync; shown
by the API and the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.accounts import integrator_account_default, integrator_account_save
from provisioning.models import ApiCall, JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from runs.batches import sync_batch_run
from tenants.call_costs import call_counts_add, call_counts_purge, utc_today
from tenants.models import CallPurpose, TenantCallCount, TenantStatus
from tenants.services import tenant_connection_submit
from tests.fixtures.factories import IntegrationTemplateFactory, TenantFactory


def _calls(tenant, purpose) -> int:
    return sum(
        TenantCallCount.objects.filter(tenant=tenant, purpose=purpose).values_list(
            "calls", flat=True
        )
    )


def test_a_provisions_calls_count_under_provision_and_a_form_ping_under_form(world):
    tenant = world.tenant("Counted", ready=False)
    for slot in world.template.slots:
        result = tenant_connection_submit(  # no client passed: as the form does
            tenant=tenant,
            slot_key=slot["key"],
            values={
                "base_url": world.sandbox.demo_url(slot["key"]),
                "api_key": world.sandbox.demo_keys[slot["key"]],
            },
        )
        assert result.ok, result.message
    # a virtual ping and a create per slot
    assert _calls(tenant, CallPurpose.FORM) >= 2 * len(world.template.slots)

    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert _calls(tenant, CallPurpose.PROVISION) == ApiCall.objects.filter(job=job).count()


@pytest.mark.django_db
def test_a_sync_batch_counts_its_calls_under_sync(make_tenant):
    acme = make_tenant("acme").tenant

    result = sync_batch_run(tenant_ids=[acme.pk])

    assert result.calls > 0
    assert _calls(acme, CallPurpose.SYNC) == result.calls


@pytest.mark.django_db
def test_counts_add_up_in_bulk_and_are_kept_90_days():
    tenant = TenantFactory()
    today = utc_today()
    call_counts_add({(tenant.pk, CallPurpose.SYNC): 3, (tenant.pk, CallPurpose.FORM): 2})
    call_counts_add({(tenant.pk, CallPurpose.SYNC): 4})
    call_counts_add({(tenant.pk, CallPurpose.SYNC): 9}, day=today - timedelta(days=91))

    assert _calls(tenant, CallPurpose.SYNC) == 3 + 4 + 9
    assert call_counts_purge() == 1
    assert _calls(tenant, CallPurpose.SYNC) == 7


@pytest.mark.django_db
def test_the_api_shows_calls_per_purpose_per_day_and_the_budget_share(api, settings):
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 10.0
    tenant = TenantFactory()
    today = utc_today()
    call_counts_add({(tenant.pk, CallPurpose.PROVISION): 40, (tenant.pk, CallPurpose.SYNC): 8})
    call_counts_add({(tenant.pk, CallPurpose.SYNC): 12}, day=today - timedelta(days=1))

    response = api.get(f"/api/v1/tenants/{tenant.external_id}/costs", {"days": 2})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["daily_budget"] == 864000.0
    assert body["totals"] == {"provision": 40, "sync": 20}
    assert body["total"] == 60
    assert [d["day"] for d in body["days"]] == [str(today - timedelta(days=1)), str(today)]
    assert body["days"][1]["calls"] == {"provision": 40, "sync": 8}
    assert body["days"][1]["budget_share"] == pytest.approx(48 / 864000)
    assert body["budget_share"] == pytest.approx(60 / (2 * 864000))
    bad = api.get(f"/api/v1/tenants/{tenant.external_id}/costs", {"days": 0})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_the_admin_shows_a_tenants_calls_and_the_top_tenants(admin_client):
    big, small = TenantFactory(name="Big spender"), TenantFactory(name="Frugal")
    call_counts_add({(big.pk, CallPurpose.SYNC): 500, (small.pk, CallPurpose.FORM): 3})

    page = admin_client.get(reverse("admin:tenants_tenant_change", args=[big.pk]))
    assert page.status_code == 200
    assert "500 calls" in page.content.decode()

    ranking = admin_client.get(reverse("admin:tenants_tenantcallranking_changelist"))
    assert ranking.status_code == 200
    text = ranking.content.decode()
    assert text.index("Big spender") < text.index("Frugal")


@pytest.mark.django_db
def test_the_admin_says_a_tiny_share_of_the_budget_in_words_a_person_reads(admin_client, settings):
    # 3 calls of a week's 6,048,000: "0.0000%" read as none at all, and four decimals of a
    # real share ("1.9841%") as more precision than anyone acts on.
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 10
    small, big = TenantFactory(name="Frugal"), TenantFactory(name="Big spender")
    call_counts_add({(small.pk, CallPurpose.FORM): 3, (big.pk, CallPurpose.SYNC): 120_000})

    page = admin_client.get(reverse("admin:tenants_tenant_change", args=[small.pk]))
    assert "3 calls (&lt;0.01% of the account's budget" in page.content.decode()
    big_page = admin_client.get(reverse("admin:tenants_tenant_change", args=[big.pk]))
    assert "120000 calls (1.98% of the account's budget" in big_page.content.decode()

    ranking = admin_client.get(reverse("admin:tenants_tenantcallranking_changelist"))
    text = ranking.content.decode()
    assert "&lt;0.01%" in text and "1.98%" in text
    assert "0.0000%" not in text and "1.9841%" not in text


@pytest.mark.django_db
def test_a_tenants_budget_share_is_of_its_own_accounts_rate_limit(api, admin_client, settings):
    """An account with a rate limit of its own (the EU account at 5 calls a second, the
    settings' 10): its tenant's share is of that account's budget, not of the settings'."""
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 10.0
    eu = integrator_account_save(key="eu-main", name="EU", region="eu", rate_limit_per_second=5.0)
    tenant = TenantFactory(
        name="Slow EU", template=IntegrationTemplateFactory(account=eu), account=eu
    )
    call_counts_add({(tenant.pk, CallPurpose.SYNC): 4320})

    body = api.get(f"/api/v1/tenants/{tenant.external_id}/costs", {"days": 1}).json()

    assert body["daily_budget"] == 432000.0
    assert body["budget_share"] == pytest.approx(0.01)
    assert body["days"][0]["budget_share"] == pytest.approx(0.01)
    ranking = admin_client.get(reverse("admin:tenants_tenantcallranking_changelist"))
    row = ranking.content.decode().split("Slow EU", 1)[1].split("</tr>", 1)[0]
    # 4,320 calls of 7 days at 5 calls a second.
    assert "0.14%" in row, row


@pytest.mark.django_db
def test_the_costs_name_the_account_whose_budget_they_are_a_share_of(api, settings):
    """A customer moved from the US account to the EU one: the costs of its first incarnation
    were a share of "its account's" budget, and the only account the API showed for the
    tenant was the EU one of its current incarnation, of another rate limit."""
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 10.0
    eu = integrator_account_save(key="eu-main", name="EU", region="eu", rate_limit_per_second=5.0)
    TenantFactory(
        external_id="acme",
        incarnation=1,
        status=TenantStatus.DEPROVISIONED,
        superseded_at=timezone.now(),
    )
    TenantFactory(
        external_id="acme",
        incarnation=2,
        template=IntegrationTemplateFactory(account=eu),
        account=eu,
    )

    first = api.get("/api/v1/tenants/acme/costs", {"days": 1, "incarnation": 1}).json()
    current = api.get("/api/v1/tenants/acme/costs", {"days": 1}).json()

    assert first["integrator_account"] == {"key": integrator_account_default().key, "region": "us"}
    assert first["daily_budget"] == 864000.0
    assert current["integrator_account"] == {"key": "eu-main", "region": "eu"}
    assert current["daily_budget"] == 432000.0

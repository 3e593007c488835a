"""`manage.py seed_demo --eu` (make run): a second demo account in the sandbox's EU region,
with the demo template published on it from that account's own integration."""

import pytest
from django.core.management import call_command

from core.accounts import account_api_url
from sandbox.settings import DEFAULT_EU_API_TOKEN
from tenants.models import IntegrationTemplate

pytestmark = pytest.mark.django_db


def test_it_adds_an_eu_account_with_the_demo_template(settings, tmp_path, capsys, sandbox_clean):
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    settings.INTEGRATOR_EU_API_URL = sandbox_clean.eu_api_url
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    eu_seed = sandbox_clean.control.seed(account=DEFAULT_EU_API_TOKEN)

    call_command("seed_demo", "--eu")
    call_command("seed_demo", "--eu")  # once: the second run changes nothing

    template = IntegrationTemplate.objects.get(key="shop-to-erp-eu")
    assert (template.account.key, template.account.region) == ("demo-eu", "eu")
    assert account_api_url(template.account) == sandbox_clean.eu_api_url
    snapshot = template.versions.get().snapshot
    assert [flow["_id"] for flow in snapshot["flows"]] == eu_seed["flowIds"]
    banner = capsys.readouterr().out
    assert "EU template: shop-to-erp-eu" in banner
    # `"region": "eu"` is no way to an EU tenant on its own: with shop-to-erp it is a 400.
    assert 'or send "region": "eu"' not in banner
    assert 'with "region": "eu" to refuse any other' in banner
    assert IntegrationTemplate.objects.get(key="shop-to-erp").account.is_default

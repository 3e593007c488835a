"""Upgrading a single-account deployment: migration 0010 makes the default integrator.io account
from the settings, without storing the token, and places every template and tenant on it."""

import pytest

from core.accounts import account_api_url, account_token
from tests.fixtures.migrations import migrated_back

BEFORE = [("core", "0001_initial"), ("tenants", "0009_oauth_client_records")]
AFTER = [("core", "0003_integrator_accounts"), ("tenants", "0010_tenant_accounts")]


@pytest.mark.django_db(transaction=True)
def test_a_single_account_deployment_keeps_working_on_the_default_account(settings):
    settings.INTEGRATOR_API_URL = "https://api.eu.integrator.io/v1"
    settings.INTEGRATOR_API_TOKEN = "the-deployments-own-token"
    with migrated_back(BEFORE) as (old, migrate):
        template = old.get_model("tenants", "IntegrationTemplate").objects.create(
            key="shop", name="Shop", source_integration_id="5eed00000000000000000001"
        )
        version = old.get_model("tenants", "TemplateVersion").objects.create(
            template=template, version="1", source_integration_id="x", digest="d"
        )
        old.get_model("tenants", "Tenant").objects.create(
            external_id="acme", name="Acme", template=template, template_version=version
        )

        new = migrate(AFTER)

        Account = new.get_model("core", "IntegratorAccount")
        [account] = Account.objects.all()
        assert (account.key, account.region, account.is_default) == ("default", "eu", True)
        assert account.token_encrypted == ""  # the token stays in the environment
        assert new.get_model("tenants", "Tenant").objects.get().account_id == account.pk
        assert new.get_model("tenants", "IntegrationTemplate").objects.get().account_id == (
            account.pk
        )
    from core.models import IntegratorAccount

    default = IntegratorAccount.objects.get(is_default=True)
    assert account_token(default) == "the-deployments-own-token"
    assert account_api_url(default) == "https://api.eu.integrator.io/v1"

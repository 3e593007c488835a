"""Upgrading: OAuth clients kept in the admin before they named a token URL take the one their
app's templates name (where their secret was already sent), so that the deployment's OAuth keeps
working; templates naming two URLs for one client leave it to an admin (tenants' 0015)."""

import pytest

from tests.fixtures.migrations import migrated_back

BEFORE = [("tenants", "0014_call_count_purpose_runs")]
AFTER = [("tenants", "0015_oauth_client_token_url")]
URL = "https://crm.example.com/oauth/token"


def _version(apps, key: str, clients: dict[str, str]):
    # The default account a migration made, unless a transactional test emptied the tables.
    accounts = apps.get_model("core", "IntegratorAccount").objects
    account = accounts.filter(is_default=True).first() or accounts.create(
        key="default", name="Default account", region="us", is_default=True
    )
    template = apps.get_model("tenants", "IntegrationTemplate").objects.create(
        key=key, name=key, source_integration_id="i-1", account=account
    )
    slots = [
        {"key": f"s{n}", "kind": "oauth", "oauth": {"client": client, "token_url": url}}
        for n, (client, url) in enumerate(clients.items())
    ]
    apps.get_model("tenants", "TemplateVersion").objects.create(
        template=template, version="1.0.0", source_integration_id="i-1", slots=slots, digest=key
    )


@pytest.mark.django_db(transaction=True)
def test_a_client_takes_the_token_url_its_templates_name():
    with migrated_back(BEFORE) as (old, migrate):
        records = old.get_model("tenants", "OAuthClientRecord").objects
        for key in ("crm", "erp", "unused"):
            records.create(provider_key=key, client_id="cid", client_secret_encrypted="v1.x.y")
        _version(old, "a", {"crm": URL, "erp": "https://erp.example.com/token"})
        _version(old, "b", {"crm": URL, "erp": "https://elsewhere.example/token"})

        new = migrate(AFTER)

        token_urls = dict(
            new.get_model("tenants", "OAuthClientRecord").objects.values_list(
                "provider_key", "token_url"
            )
        )
        assert token_urls == {"crm": URL, "erp": "", "unused": ""}

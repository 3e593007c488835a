"""`manage.py integrator_account`: what it refuses, and the default account's token from the
environment (INTEGRATOR_API_TOKEN) rather than stored."""

import pytest
from django.core.management import CommandError, call_command

from core.accounts import (
    account_token,
    account_token_source,
    integrator_account_default,
    integrator_account_save,
)
from core.encryption import key_new
from core.models import IntegratorAccount

TOKEN = "eu-account-token-0123456789abcdef"


@pytest.fixture
def keys(settings):
    settings.ENCRYPTION_KEYS = f"k1:{key_new()}"


@pytest.mark.django_db
def test_keep_token_is_refused_for_a_new_account_which_has_none(keys, monkeypatch):
    """It was accepted, and left an account that no call could use ("not set")."""
    monkeypatch.delenv("INTEGRATOR_ACCOUNT_TOKEN", raising=False)

    with pytest.raises(CommandError, match="has no API token to keep") as refused:
        call_command("integrator_account", "eu-main", "--region", "eu", "--keep-token")

    assert "INTEGRATOR_ACCOUNT_TOKEN" in str(refused.value)
    assert not IntegratorAccount.objects.filter(key="eu-main").exists()


@pytest.mark.django_db
def test_keep_token_is_refused_for_an_account_whose_token_was_never_stored(keys):
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    IntegratorAccount.objects.filter(pk=account.pk).update(token_encrypted="")

    with pytest.raises(CommandError, match="'eu-main' has no API token to keep"):
        call_command("integrator_account", "eu-main", "--name", "EU 2", "--keep-token")

    assert IntegratorAccount.objects.get(pk=account.pk).name == "EU"


@pytest.mark.django_db
def test_keep_token_of_the_default_account_keeps_reading_the_environment(keys, capsys):
    integrator_account_default()

    call_command("integrator_account", "default", "--name", "Main", "--keep-token")

    account = IntegratorAccount.objects.get(key="default")
    assert account.name == "Main" and account_token_source(account) == "environment"
    assert "INTEGRATOR_API_TOKEN" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_default_account_can_go_back_to_its_token_from_the_environment(
    keys, settings, monkeypatch, capsys
):
    """Once a token was stored for the default account, nothing but the database (clearing
    its column by hand) took it back to INTEGRATOR_API_TOKEN: the command wanted a token."""
    monkeypatch.delenv("INTEGRATOR_ACCOUNT_TOKEN", raising=False)
    integrator_account_default()
    integrator_account_save(key="default", name="Default account", region="us", token=TOKEN)

    call_command("integrator_account", "default", "--environment-token")

    account = IntegratorAccount.objects.get(key="default")
    assert account.token_encrypted == ""
    assert account_token_source(account) == "environment"
    assert account_token(account) == settings.INTEGRATOR_API_TOKEN
    assert account.name == "Default account"  # the rest as it was
    said = capsys.readouterr().out
    assert "INTEGRATOR_API_TOKEN" in said and TOKEN not in said


@pytest.mark.django_db
def test_only_the_default_account_reads_its_token_from_the_environment(keys):
    integrator_account_default()
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)

    with pytest.raises(CommandError, match="Only the default account"):
        call_command("integrator_account", "eu-main", "--environment-token")
    with pytest.raises(CommandError, match="Only the default account"):
        call_command("integrator_account", "new-one", "--region", "us", "--environment-token")
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("integrator_account", "default", "--environment-token", "--keep-token")

    assert account_token(IntegratorAccount.objects.get(key="eu-main")) == TOKEN
    assert not IntegratorAccount.objects.filter(key="new-one").exists()

"""`manage.py integrator_account`: what it refuses, the default account's token from the
environment (INTEGRATOR_API_TOKEN) rather than stored, and what the README says of it: the
command sets no rate limit (it has no option for one); an account it adds has the settings'
rate, one it changes keeps its own. Only the admin sets an account's rate, and refuses one."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class

from core.accounts import (
    account_rate_limit,
    account_token,
    account_token_source,
    integrator_account_default,
    integrator_account_save,
)
from core.encryption import key_new
from core.models import IntegratorAccount

REPO_ROOT = Path(__file__).resolve().parents[2]

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
def test_keep_token_is_refused_for_a_stored_token_no_key_opens(settings):
    """Start-up names the account whose token ENCRYPTION_KEYS cannot open and sends the
    operator here; `--keep-token` said "saved; token kept." and kept the unreadable one, so
    that start-up failed again."""
    settings.ENCRYPTION_KEYS = f"k1:{key_new()}"
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    settings.ENCRYPTION_KEYS = f"k1:{key_new()}"  # not the key that encrypted it

    with pytest.raises(CommandError, match="'eu-main' cannot be read") as refused:
        call_command("integrator_account", "eu-main", "--name", "EU 2", "--keep-token")

    assert "leave out --keep-token" in str(refused.value)
    assert "INTEGRATOR_ACCOUNT_TOKEN" in str(refused.value)
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


def _options() -> set[str]:
    parser = load_command_class("core", "integrator_account").create_parser(
        "manage.py", "integrator_account"
    )
    return {option for action in parser._actions for option in action.option_strings}


@pytest.mark.django_db
def test_it_adds_an_account_at_the_settings_rate_and_keeps_a_changed_ones(settings, monkeypatch):
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 300
    settings.INTEGRATOR_RATE_LIMIT_BURST = 1000
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", "eu-token-value")
    call_command("integrator_account", "eu-main", "--region", "eu", stdout=io.StringIO())
    added = IntegratorAccount.objects.get(key="eu-main")
    assert (added.rate_limit_per_second, added.rate_limit_burst) == (None, None)
    assert account_rate_limit(added) == (1000, 300)

    integrator_account_save(
        key="eu-main",
        name="EU",
        region="eu",
        token=None,
        rate_limit_per_second=20.0,
        rate_limit_burst=50,
    )
    call_command("integrator_account", "eu-main", "--name", "Europe", stdout=io.StringIO())
    changed = IntegratorAccount.objects.get(key="eu-main")
    assert (changed.name, changed.rate_limit_per_second, changed.rate_limit_burst) == (
        "Europe",
        20.0,
        50,
    )


def test_the_readme_says_only_the_admin_sets_and_refuses_an_accounts_rate():
    """The README said the admin and the command ("Both") refuse a rate per second not above 0
    and a burst below 1: the command takes no rate at all, and an operator looked for its
    option."""
    assert not {option for option in _options() if "rate" in option or "burst" in option}

    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    [sentence] = [s for s in re.split(r"(?<=\.) ", readme) if "not above 0" in s]
    assert not sentence.startswith("Both"), sentence
    assert "admin" in sentence, sentence
    # What an account without its own rate has, with the units and defaults.
    assert "`INTEGRATOR_RATE_LIMIT_PER_SECOND` / `_BURST`" in readme
    assert "300 calls a second, a burst of 1000" in readme


def test_its_help_says_what_each_argument_is():
    """`--help` listed `key`, `--name`, `--region` and `--token-env` with no word: which key,
    which environment variable by default, whether the region is needed."""
    command = load_command_class("core", "integrator_account")
    parser = command.create_parser("manage.py", "integrator_account")
    described = {
        name: action.help
        for action in parser._actions
        for name in (action.option_strings or [action.dest])
    }

    for name in ("key", "--name", "--region", "--token-env"):
        assert described[name], name
    assert "INTEGRATOR_ACCOUNT_TOKEN" in described["--token-env"]
    assert "new account" in described["--region"]


@pytest.mark.django_db
@pytest.mark.parametrize("pasted", ["a b", f"Bearer {TOKEN}", f"{TOKEN}\tx"])
def test_a_token_with_spaces_in_it_is_refused(keys, monkeypatch, pasted):
    """An API token has none: "Bearer …", or two things pasted at once, was stored, and every
    call of the account then failed with a 401 far from where it was typed."""
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", pasted)

    with pytest.raises(CommandError, match="token") as refused:
        call_command("integrator_account", "eu-y", "--region", "eu")

    assert "no spaces" in str(refused.value)
    assert pasted not in str(refused.value)
    assert not IntegratorAccount.objects.filter(key="eu-y").exists()

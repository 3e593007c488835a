"""`manage.py integrator_account` and what the README says of it: the command sets no rate
limit (it has no option for one); an account it adds has the settings' rate, one it changes
keeps its own. Only the admin sets an account's rate, and only the admin can refuse one."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command, load_command_class

from core.accounts import account_rate_limit, integrator_account_save
from core.models import IntegratorAccount

REPO_ROOT = Path(__file__).resolve().parents[2]


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

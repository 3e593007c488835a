"""integrator.io account tokens at rest: encrypted and bound to their row, re-encrypted by
`manage.py rotate_encryption_key`, never shown, and start-up refuses keys that cannot read
them. The default account keeps reading the settings, storing nothing."""

import os
import re
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.html import escape

from core.accounts import (
    AccountTokenUnavailable,
    IntegratorAccountInvalid,
    account_api_url,
    account_token,
    account_token_source,
    account_tokens_unreadable,
    account_tokens_verify,
    integrator_account_default,
    integrator_account_save,
)
from core.encryption import key_new
from core.models import IntegratorAccount
from tenants.models import TenantStatus
from tests.fixtures.factories import IntegrationTemplateFactory, TenantFactory

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "eu-account-token-0123456789abcdef"
OTHER_TOKEN = "us-second-token-fedcba9876543210"


@pytest.fixture
def keys(settings):
    first, second = key_new(), key_new()
    settings.ENCRYPTION_KEYS = f"k1:{first}"
    return {"k1": first, "k2": second}


def _raw_token_column(account: IntegratorAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token_encrypted FROM core_integratoraccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_it_stores_the_token_encrypted_under_the_first_key(keys):
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)

    stored = _raw_token_column(account)
    assert TOKEN not in stored
    assert stored.startswith("v1.k1.")
    assert account_token(IntegratorAccount.objects.get(pk=account.pk)) == TOKEN
    assert account_token_source(account) == "set"


@pytest.mark.django_db
def test_a_token_copied_into_another_row_does_not_decrypt_there(keys):
    eu = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    us = integrator_account_save(key="us-two", name="US 2", region="us", token=OTHER_TOKEN)
    IntegratorAccount.objects.filter(pk=us.pk).update(token_encrypted=eu.token_encrypted)

    with pytest.raises(AccountTokenUnavailable) as refused:
        account_token(IntegratorAccount.objects.get(pk=us.pk))
    assert "us-two" in refused.value.message
    assert TOKEN not in refused.value.message
    assert [item.account for item in account_tokens_unreadable()] == ["us-two"]
    # The admin and GET /integrator/accounts say so, not "set".
    assert account_token_source(IntegratorAccount.objects.get(pk=us.pk)) == "unreadable"
    assert account_token_source(eu) == "set"
    # Start-up says what happened: key k1 is there, so "put the key back" would not help.
    with pytest.raises(ImproperlyConfigured) as stopped:
        account_tokens_verify()
    said = str(stopped.value)
    assert "'us-two' (key id 'k1'), though that key is configured" in said
    assert "copied from another account's row" in said
    assert "Put the key that encrypted them back" not in said
    assert "manage.py integrator_account" in said


@pytest.mark.django_db
def test_rotate_encryption_key_reencrypts_account_tokens(keys, settings, capsys):
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    settings.ENCRYPTION_KEYS = f"k2:{keys['k2']},k1:{keys['k1']}"

    call_command("rotate_encryption_key")

    assert "1 integrator.io account token(s)" in capsys.readouterr().out
    assert _raw_token_column(account).startswith("v1.k2.")
    settings.ENCRYPTION_KEYS = f"k2:{keys['k2']}"  # the old key dropped
    assert account_token(IntegratorAccount.objects.get(pk=account.pk)) == TOKEN


@pytest.mark.django_db
def test_a_rotation_is_in_the_audit_log(keys, settings, monkeypatch):
    # Ops asked "when were the tokens last re-encrypted, and under which key?": nothing said.
    from audit.models import AuditEvent

    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    settings.ENCRYPTION_KEYS = f"k2:{keys['k2']},k1:{keys['k1']}"
    monkeypatch.setattr(sys, "argv", ["manage.py", "rotate_encryption_key"])

    call_command("rotate_encryption_key")

    event = AuditEvent.objects.get(action="encryption_key.rotate")
    assert (event.target_type, event.target_id) == ("encryption_key", "k2")
    assert (event.actor_type, event.actor_id) == ("command", "rotate_encryption_key")
    assert event.changes["integrator_accounts"] == {"before": None, "after": 1}
    assert keys["k2"] not in str(event.changes) and keys["k1"] not in str(event.changes)


@pytest.mark.django_db
def test_rotate_says_which_account_no_key_opens(keys, settings):
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    settings.ENCRYPTION_KEYS = f"k2:{keys['k2']}"  # k1 dropped before rotating

    with pytest.raises(CommandError, match=r"account\(s\) 'eu-main' \(key id 'k1'\)") as refused:
        call_command("rotate_encryption_key")

    # The web process (and so the admin) refuses to start while the token is unreadable: the
    # way out the message names must be one that runs then.
    message = str(refused.value)
    assert "manage.py integrator_account" in message
    assert "again in the admin" not in message
    assert "Put the key that encrypted them back" in message


@pytest.mark.django_db
def test_rotate_says_a_token_copied_from_another_row_needs_a_new_one(keys, settings):
    """It said "put the key that encrypted it back", when that key was there all along."""
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    us = integrator_account_save(key="us-two", name="US 2", region="us", token=OTHER_TOKEN)
    settings.ENCRYPTION_KEYS = f"k2:{keys['k2']},k1:{keys['k1']}"
    sealed = IntegratorAccount.objects.get(key="eu-main").token_encrypted
    IntegratorAccount.objects.filter(pk=us.pk).update(token_encrypted=sealed)

    with pytest.raises(CommandError) as refused:
        call_command("rotate_encryption_key")

    message = str(refused.value)
    assert "'us-two' (key id 'k1'), though that key is configured" in message
    assert "copied from another account's row" in message
    assert "put the key that encrypted it back" not in message.lower()
    assert "manage.py integrator_account" in message
    assert TOKEN not in message and OTHER_TOKEN not in message


@pytest.mark.django_db
def test_start_up_says_a_key_replaced_under_the_same_id_is_the_wrong_key(keys, settings):
    """A new k1 in place of the old one (a .env written again) opens none of the tokens under
    k1: start-up said only that the values were "altered, or copied from another account's
    row", and that only new tokens help, when putting the old k1 back was the fix."""
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    integrator_account_save(key="us-two", name="US 2", region="us", token=OTHER_TOKEN)
    settings.ENCRYPTION_KEYS = f"k1:{keys['k2']}"  # another key, the same id

    with pytest.raises(ImproperlyConfigured) as stopped:
        account_tokens_verify()

    said = str(stopped.value)
    assert "'eu-main' (key id 'k1'), 'us-two' (key id 'k1')" in said
    assert "the key under that id is not the one that encrypted them" in said
    assert "it opens none of the stored tokens under that id" in said
    assert "put that one back in ENCRYPTION_KEYS under its id" in said
    assert keys["k1"] not in said and keys["k2"] not in said


@pytest.mark.django_db
def test_the_default_account_reads_the_settings_and_stores_nothing(settings):
    settings.INTEGRATOR_API_URL = "https://api.eu.integrator.io/v1"
    settings.INTEGRATOR_API_TOKEN = "from-the-environment-token"

    account = integrator_account_default()

    assert (account.key, account.region, account.is_default) == ("default", "eu", True)
    assert _raw_token_column(account) == ""
    assert account_token(account) == "from-the-environment-token"
    assert account_api_url(account) == "https://api.eu.integrator.io/v1"
    assert account_token_source(account) == "environment"
    assert integrator_account_default().pk == account.pk


@pytest.mark.django_db
def test_another_account_uses_its_region_url_and_needs_a_token(settings):
    settings.INTEGRATOR_EU_API_URL = "https://eu.example.test/v1"
    account = IntegratorAccount.objects.create(key="eu-empty", name="EU", region="eu")

    assert account_api_url(account) == "https://eu.example.test/v1"
    with pytest.raises(AccountTokenUnavailable, match="has no API token"):
        account_token(account)


def _start(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s.get('USER') or 'postgres'}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("what", ["wrong", "missing"])
def test_a_missing_or_wrong_key_stops_start_up(keys, what, tmp_path):
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    env = {"DATABASE_URL": _database_url(), "DEBUG": "1", "ENV_FILE": ""}
    # Missing: DEBUG=1 falls back to a key derived from SECRET_KEY, which did not encrypt it.
    env["ENCRYPTION_KEYS"] = f"k9:{key_new()}" if what == "wrong" else ""
    good = {**env, "ENCRYPTION_KEYS": f"k1:{keys['k1']}"}

    web = _start(env, "import config.wsgi")
    check = _start(
        env,
        "import sys, manage; sys.argv = ['manage.py', 'check', '--database', 'default']; "
        "manage.main()",
    )

    worker = _celery(env, "worker", "--pool", "solo", "--queues", "nothing-here")
    # A schedule file of its own: beat opens it before it refuses, and removes a file it
    # cannot read as a schedule; given /dev/null, it removed the machine's /dev/null (as root).
    beat = _celery(env, "beat", "--schedule", str(tmp_path / "beat-schedule"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "beat removed /dev/null"

    for started in (web, check, worker, beat):
        # EX_CONFIG: a restarter must not start them again
        assert started.returncode == 78, started.stderr[-2000:]
        output = started.stderr
        assert "ENCRYPTION_KEYS does not open the stored API token" in output, output[-2000:]
        assert "'eu-main' (key id 'k1')" in output
        assert "manage.py integrator_account" in output
        assert "use the account's page in the admin" not in output  # it is not served
        assert TOKEN not in output
    for started in (check, worker, beat):  # one sentence for a person, not a traceback
        assert "Traceback" not in started.stderr, started.stderr[-2000:]
    for started in (worker, beat):  # a line of its own, not a record among the log's
        lines = started.stderr.splitlines()
        assert any(line.startswith("error: ENCRYPTION_KEYS does not open") for line in lines), (
            started.stderr[-2000:]
        )
        assert "[REDACTED]" not in started.stderr
    assert _start(good, "import config.wsgi").returncode == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("command", [["migrate", "--noinput"], ["check", "--database", "default"]])
def test_manage_py_commands_that_check_the_database_stop_with_one_line_and_ex_config(keys, command):
    """`manage.py migrate` (compose's migrate service, a deploy script) stopped on such a key
    with Django's SystemCheckError block and status 1, which a restarter or a deploy script
    cannot tell from a failed migration; it is the configuration error the other processes
    report, in one line, with status 78."""
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    env = {"DATABASE_URL": _database_url(), "DEBUG": "1", "ENV_FILE": ""}
    env["ENCRYPTION_KEYS"] = f"k9:{key_new()}"

    started = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=REPO_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert started.returncode == 78, started.stderr[-2000:]
    assert started.stderr.startswith("error: ENCRYPTION_KEYS does not open"), started.stderr
    assert len(started.stderr.strip().splitlines()) == 1, started.stderr
    assert TOKEN not in started.stderr + started.stdout


@pytest.mark.django_db(transaction=True)
def test_runserver_stops_with_one_line_when_no_key_opens_a_token(keys):
    """`make run` serves with runserver, which loads the application in a thread of its own
    under its autoreloader: a traceback there left a process that served nothing and never
    exited, so `make run` went on without its web server."""
    integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    env = {"DATABASE_URL": _database_url(), "DEBUG": "1", "ENV_FILE": ""}
    env["ENCRYPTION_KEYS"] = f"k9:{key_new()}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A session of its own: the autoreloader's child is stopped with it if it keeps running.
    runserver = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=REPO_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = runserver.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(runserver.pid, signal.SIGKILL)
        stdout, stderr = runserver.communicate()
        pytest.fail(f"runserver kept running with a key that cannot read a token: {stderr}")

    said = stderr[-2000:]
    assert any(line.startswith("error: ENCRYPTION_KEYS") for line in stderr.splitlines()), said
    assert runserver.returncode == 78, said  # EX_CONFIG
    assert "Traceback" not in stderr, said
    assert TOKEN not in stderr + stdout


def _celery(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """A worker or beat that must refuse to start: one that starts runs until the timeout."""
    command = [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel", "INFO"]
    env = {**env, "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")}
    try:
        return subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired as running:
        pytest.fail(f"{args[0]} started with a key that cannot read a token: {running.stderr}")


@pytest.mark.django_db
def test_the_admin_shows_set_or_not_set_and_never_the_token(keys, admin_client):
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    integrator_account_default()
    sealed = account.token_encrypted

    listing = admin_client.get("/admin/core/integratoraccount/").content.decode()
    change = admin_client.get(f"/admin/core/integratoraccount/{account.pk}/change/")
    page = change.content.decode()

    assert ">set<" in listing and ">environment<" in listing
    for html in (listing, page):
        assert TOKEN not in html and sealed not in html and sealed[:20] not in html
    assert 'type="password"' in page


@pytest.mark.django_db
def test_the_admin_names_the_accounts_as_the_docs_do(admin_client):
    """The README and docs/integrator-io.md send a reader to the admin's *integrator.io
    accounts*; the admin said "Integrator accounts" ("Add integrator account", "The integrator
    account ... was deleted"), a name no page of the docs used but one."""
    index = admin_client.get("/admin/").content.decode()
    listing = admin_client.get("/admin/core/integratoraccount/").content.decode()

    assert "Integrator.io accounts" in index
    assert "Select integrator.io account to change" in listing
    assert "Integrator accounts" not in index


@pytest.mark.django_db
def test_the_admin_encrypts_a_token_it_is_given_and_keeps_it_when_left_empty(keys, admin_client):
    created = admin_client.post(
        "/admin/core/integratoraccount/add/",
        {"key": "eu-main", "name": "EU", "region": "eu", "api_url": "", "token": TOKEN},
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    account = IntegratorAccount.objects.get(key="eu-main")
    assert account_token(account) == TOKEN

    admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {"name": "EU renamed", "region": "eu", "api_url": "", "token": ""},
    )
    account.refresh_from_db()
    assert (account.name, account_token(account)) == ("EU renamed", TOKEN)


@pytest.mark.django_db
def test_the_admin_refuses_a_new_account_without_a_token(admin_client):
    page = admin_client.post(
        "/admin/core/integratoraccount/add/",
        {"key": "eu-main", "name": "EU", "region": "eu", "api_url": "", "token": ""},
    )
    assert page.status_code == 200
    assert "A new account needs its API token." in page.content.decode()
    assert not IntegratorAccount.objects.filter(key="eu-main").exists()


@pytest.mark.django_db
def test_the_add_page_asks_for_the_token_without_offering_to_keep_one(admin_client):
    """A new account's Token said "Leave empty to keep the current one", of an account with
    no token yet, and left empty the page answered "A new account needs its API token"."""
    html = admin_client.get("/admin/core/integratoraccount/add/").content.decode()
    assert "keep the current one" not in html
    assert "Required for a new account" in html

    account = IntegratorAccount.objects.get(key="default")
    html = admin_client.get(f"/admin/core/integratoraccount/{account.pk}/change/").content
    assert "Leave empty to keep the current one" in html.decode()


@pytest.mark.django_db
def test_the_command_adds_an_account_with_its_token_from_the_environment(keys, monkeypatch, capsys):
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", TOKEN)

    call_command("integrator_account", "eu-main", "--name", "EU", "--region", "eu")
    call_command("integrator_account", "eu-main", "--name", "EU 2", "--keep-token")

    account = IntegratorAccount.objects.get(key="eu-main")
    assert (account.name, account.region, account_token(account)) == ("EU 2", "eu", TOKEN)
    assert TOKEN not in capsys.readouterr().out
    with pytest.raises(CommandError, match="needs --region"):
        call_command("integrator_account", "other")


# --- the audit log -----------------------------------------------------------------------------


def _account_events():
    from audit.models import AuditEvent

    return list(AuditEvent.objects.filter(action__startswith="integrator_account.").order_by("id"))


@pytest.mark.django_db
def test_the_command_records_an_account_added_and_changed_once_each_without_its_token(
    keys, monkeypatch
):
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", TOKEN)

    call_command("integrator_account", "eu-main", "--name", "EU", "--region", "eu")
    call_command("integrator_account", "eu-main", "--name", "EU", "--keep-token")  # no change
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", OTHER_TOKEN)
    call_command("integrator_account", "eu-main", "--name", "EU 2")

    account = IntegratorAccount.objects.get(key="eu-main")
    created, changed = _account_events()
    assert (created.action, created.target_type, created.target_id) == (
        "integrator_account.create",
        "integratoraccount",
        str(account.pk),
    )
    assert created.changes["key"] == {"before": None, "after": "eu-main"}
    assert created.changes["region"] == {"before": None, "after": "eu"}
    assert created.changes["token"] == {"before": None, "after": "[REDACTED]"}
    assert changed.action == "integrator_account.update"
    assert changed.changes == {
        "name": {"before": "EU", "after": "EU 2"},
        "token": {"before": "[REDACTED]", "after": "[REDACTED] (changed)"},
    }
    recorded = str([created.changes, changed.changes])
    assert TOKEN not in recorded and OTHER_TOKEN not in recorded
    assert account.token_encrypted[:20] not in recorded


@pytest.mark.django_db
def test_the_admin_records_an_account_added_changed_and_deleted_by_its_user(
    keys, admin_client, admin_user
):
    admin_client.post(
        "/admin/core/integratoraccount/add/",
        {"key": "eu-main", "name": "EU", "region": "eu", "api_url": "", "token": TOKEN},
    )
    account = IntegratorAccount.objects.get(key="eu-main")
    admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {"name": "EU", "region": "eu", "api_url": "", "rate_limit_burst": "5", "token": ""},
    )
    admin_client.post(f"/admin/core/integratoraccount/{account.pk}/delete/", {"post": "yes"})

    events = _account_events()
    assert [(e.action, e.actor_type, e.actor_name) for e in events] == [
        ("integrator_account.create", "user", admin_user.username),
        ("integrator_account.update", "user", admin_user.username),
        ("integrator_account.delete", "user", admin_user.username),
    ]
    assert events[1].changes == {"rate_limit_burst": {"before": None, "after": 5}}
    assert TOKEN not in str([e.changes for e in events])


@pytest.mark.django_db
def test_an_account_in_use_offers_no_delete(keys, admin_client):
    """Its delete page said "your account doesn't have permission to delete: tenant", as if
    a permission were missing; an account with templates or tenants is never deleted."""
    used = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    IntegrationTemplateFactory(key="shop-to-erp-eu", account=used)
    spare = integrator_account_save(key="spare", name="Spare", region="eu", token=TOKEN)

    page = admin_client.get(f"/admin/core/integratoraccount/{used.pk}/change/")
    refused = admin_client.get(f"/admin/core/integratoraccount/{used.pk}/delete/")

    assert page.status_code == 200
    assert f"/admin/core/integratoraccount/{used.pk}/delete/" not in page.content.decode()
    # Its delete address, typed or bookmarked, was a bare "403 Forbidden": it goes back to
    # the account's page, which says what keeps it.
    assert refused.status_code == 302
    assert refused["Location"] == f"/admin/core/integratoraccount/{used.pk}/change/"
    said = admin_client.get(refused["Location"]).content.decode()
    assert "was not deleted: 1 template, 0 tenants, 0 orphans: it cannot be deleted" in said
    # A POST deletes nothing either.
    admin_client.post(f"/admin/core/integratoraccount/{used.pk}/delete/", {"post": "yes"})
    assert IntegratorAccount.objects.filter(pk=used.pk).exists()
    spare_page = admin_client.get(f"/admin/core/integratoraccount/{spare.pk}/change/")
    assert f"/admin/core/integratoraccount/{spare.pk}/delete/" in spare_page.content.decode()


@pytest.mark.django_db
def test_an_account_in_use_says_what_keeps_it(keys, admin_client):
    """An ops person who came to delete an account that still had tenants found no Delete
    button and no word why, nor what to do about it."""
    used = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    template = IntegrationTemplateFactory(key="shop-to-erp-eu", account=used)
    TenantFactory(template=template, account=used, status=TenantStatus.ACTIVE)
    TenantFactory(template=template, account=used, status=TenantStatus.DEPROVISIONED)
    spare = integrator_account_save(key="spare", name="Spare", region="eu", token=TOKEN)

    used_page = admin_client.get(f"/admin/core/integratoraccount/{used.pk}/change/")
    spare_page = admin_client.get(f"/admin/core/integratoraccount/{spare.pk}/change/")
    default_page = admin_client.get(
        f"/admin/core/integratoraccount/{integrator_account_default().pk}/change/"
    )

    text = used_page.content.decode()
    assert "1 template, 2 tenants, 0 orphans" in text
    assert "cannot be deleted while any of them is on it" in text
    assert "Nothing is on it: it can be deleted." in spare_page.content.decode()
    assert "The default account: never deleted." in default_page.content.decode()


# --- what an account may be saved with ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "field"),
    [
        (["Bad Key!", "--region", "eu"], "key"),
        (["k" * 40, "--region", "eu"], "key"),
        (["eu-main", "--region", "eu", "--api-url", "not a url"], "api_url"),
        # The other region's host: the EU token would be refused on every call.
        (["eu-main", "--region", "eu", "--api-url", "https://api.integrator.io/v1"], "api_url"),
    ],
)
def test_the_command_refuses_what_the_admin_refuses(keys, monkeypatch, options, field):
    """The admin's form refused these; the command stored them (a key that is no slug names
    Redis keys; on PostgreSQL a long one was a DataError traceback)."""
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", TOKEN)

    with pytest.raises(CommandError, match=rf"was not saved[\s\S]*  {field}: "):
        call_command("integrator_account", *options)

    assert not IntegratorAccount.objects.exclude(is_default=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("rate_limit_per_second", "-5", "Must be above 0"), ("rate_limit_burst", "0", "at least 1")],
)
def test_the_admin_refuses_a_rate_limit_no_bucket_can_run(
    keys, admin_client, field, value, message
):
    """A negative rate was saved, and every call of the account then failed: 500 on the API."""
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)

    page = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {"name": "EU", "region": "eu", "api_url": "", "token": "", field: value},
    )

    assert page.status_code == 200
    assert message in page.content.decode()
    account.refresh_from_db()
    assert getattr(account, field) is None
    with pytest.raises(IntegratorAccountInvalid) as refused:
        integrator_account_save(key="eu-main", name="EU", region="eu", **{field: float(value)})
    assert list(refused.value.fields) == [field]


@pytest.mark.django_db
def test_an_accounts_region_stays_while_templates_are_on_it(keys, monkeypatch, admin_client):
    """Its tenants' integrations live in that region: changing it reported an EU customer as
    North American and placed new `"region": "us"` tenants on the EU account."""
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    IntegrationTemplateFactory(key="shop-to-erp-eu", account=account)
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", TOKEN)

    with pytest.raises(CommandError, match="region: Stays 'eu'"):
        call_command("integrator_account", "eu-main", "--region", "us", "--keep-token")
    page = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {"name": "EU", "region": "us", "api_url": "", "token": ""},
    )

    assert page.status_code == 200
    assert "Stays &#x27;eu&#x27;" in page.content.decode()
    account.refresh_from_db()
    assert account.region == "eu"
    # Everything else may change, and an account nothing is on yet may change region.
    call_command("integrator_account", "eu-main", "--name", "EU renamed", "--keep-token")
    call_command("integrator_account", "spare", "--region", "eu")
    call_command("integrator_account", "spare", "--region", "us", "--keep-token")
    assert IntegratorAccount.objects.get(key="spare").region == "us"


@pytest.mark.django_db
def test_a_viewer_reads_whether_a_token_is_set_and_no_empty_token_field(keys, viewer_admin):
    """The write-only field is the form's, for whoever may type a new token; read only, it
    would show "Token: None" above "API token: set", which says the opposite."""
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)

    page = viewer_admin.get(f"/admin/core/integratoraccount/{account.pk}/change/")
    html = page.content.decode()

    assert page.status_code == 200
    assert "field-token_state" in html and "field-token " not in html
    assert 'class="form-row field-token"' not in html and TOKEN not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("api_url", "problem"),
    [
        ("https://ops:hunter2@eu.example.test/v1", "Enter the URL without a user name or password"),
        ("https://[::1]:8443/v1", "Enter a host name or an IPv4 address"),
        ("eu.example.test/v1", "Enter an absolute http or https URL."),
        ("https://eu.example.test:99999/v1", "Enter a port from 1 to 65535 (not 99999)"),
    ],
)
def test_the_admin_and_the_command_check_the_api_url_as_every_other_url(
    keys, monkeypatch, admin_client, api_url, problem
):
    """Checked by Django's URLField, the form took a user name and password (then kept and
    shown in clear), an IPv6 literal, and a URL without a scheme (made https), and said
    "Enter a valid URL." of the rest: core.http_urls' check and words, as a webhook's URL."""
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)

    page = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {"name": "EU", "region": "eu", "api_url": api_url, "token": ""},
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert escape(problem) in html and "Enter a valid URL." not in html
    account.refresh_from_db()
    assert account.api_url == ""
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", TOKEN)
    with pytest.raises(CommandError, match=re.escape(problem)):
        call_command("integrator_account", "eu-main", "--region", "eu", "--api-url", api_url)


@pytest.mark.django_db
def test_the_admin_takes_an_api_url_on_a_host_name_of_one_label(keys, admin_client):
    """As a webhook's URL may be: a sandbox or proxy reached by its container name."""
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)

    saved = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {"name": "EU", "region": "eu", "api_url": "http://sandbox:8001/v1", "token": TOKEN},
    )

    assert saved.status_code == 302, saved.content.decode()[:2000]
    account.refresh_from_db()
    assert account.api_url == "http://sandbox:8001/v1"


@pytest.mark.django_db
@pytest.mark.parametrize("stored", [True, False], ids=["stored-token", "default-env-token"])
def test_pointing_an_account_elsewhere_needs_its_token_typed_again(
    keys, settings, monkeypatch, admin_client, stored
):
    """The token is write-only, yet a new API URL override kept it: an administrator who may
    not read it typed their own address, and the account's next call sent it there in its
    Authorization header (the default account's INTEGRATOR_API_TOKEN likewise). A new address
    takes the token meant for it; the settings' own URLs (no override) keep it."""
    settings.INTEGRATOR_API_TOKEN = "from-the-environment-token"
    if stored:
        account = integrator_account_save(key="eu-main", name="EU", region="eu", token=TOKEN)
    else:
        account = integrator_account_default()
    fields = {"name": account.name, "region": account.region, "token": ""}

    page = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {**fields, "api_url": "https://collector.example.test/v1"},
    )

    assert page.status_code == 200
    assert "Type the API token again" in page.content.decode()
    account.refresh_from_db()
    assert account.api_url == ""
    with pytest.raises(IntegratorAccountInvalid) as refused:
        integrator_account_save(
            key=account.key,
            name=account.name,
            region=account.region,
            api_url="https://collector.example.test/v1",
        )
    assert list(refused.value.fields) == ["token"]
    monkeypatch.setenv("INTEGRATOR_ACCOUNT_TOKEN", TOKEN)
    with pytest.raises(CommandError, match="token: Type the API token again"):
        call_command(
            "integrator_account",
            account.key,
            "--api-url",
            "https://collector.example.test/v1",
            "--keep-token",
        )

    # With the token for it, the new address is taken; so is a change that keeps the address.
    saved = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {**fields, "api_url": "https://proxy.example.test/v1", "token": OTHER_TOKEN},
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    renamed = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {**fields, "name": "Renamed", "api_url": "https://proxy.example.test/v1"},
    )
    assert renamed.status_code == 302, renamed.content.decode()[:2000]
    account.refresh_from_db()
    assert (account.name, account.api_url, account_token(account)) == (
        "Renamed",
        "https://proxy.example.test/v1",
        OTHER_TOKEN,
    )
    # Back to the settings' URL for it: no token needed, the one it has is kept.
    cleared = admin_client.post(
        f"/admin/core/integratoraccount/{account.pk}/change/",
        {**fields, "name": "Renamed", "api_url": ""},
    )
    assert cleared.status_code == 302, cleared.content.decode()[:2000]
    account.refresh_from_db()
    assert (account.api_url, account_token(account)) == ("", OTHER_TOKEN)


def test_rotate_encryption_keys_help_gives_the_procedure():
    """`--help` said only "Re-encrypt every encrypted value under the first key": not that
    the new key goes first and the processes restart before, nor when the old key may go."""
    from django.core.management import load_command_class

    parser = load_command_class("api", "rotate_encryption_key").create_parser(
        "manage.py", "rotate_encryption_key"
    )
    said = " ".join(parser.format_help().split())

    assert "generate_encryption_key" in said
    assert "restart" in said
    assert "CONNECT_OAUTH_STATE_SECONDS" in said
    assert "again" in said  # safe to run again, after an interruption too

"""Settings load from the environment and refuse unsafe production values."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#Kq9!vR2mZ@pL4wN8sT1yB6cF3hJ0dG5eA-uQ_oI&rV+zX^kM",
    "ALLOWED_HOSTS": "provisioning.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://provisioning.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "INTEGRATOR_API_TOKEN": "prod-token-value",
    "ENCRYPTION_KEYS": "k1:3q2-7wVOtWq6l9z5lH0P8tBr0lM2Gx7dQh1YbR5kXy0",
}


def run_manage(args, env_overrides, tmp_path):
    # A clean environment plus the overrides, from a directory without the developer's .env.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "ENV_FILE")}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


SHOW_DB = (
    "from django.db import connection\n"
    "connection.ensure_connection()\n"
    "print(connection.vendor, connection.settings_dict['NAME'])\n"
    "print(connection.cursor().execute('PRAGMA journal_mode').fetchone()[0]"
    " if connection.vendor == 'sqlite' else 'n/a')"
)


def test_it_loads_under_sqlite_with_wal(tmp_path):
    db = tmp_path / "db.sqlite3"
    result = run_manage(
        ["shell", "-c", SHOW_DB], {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{db}"}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    vendor_line, journal_mode = result.stdout.strip().splitlines()[-2:]
    assert vendor_line == f"sqlite {db}"
    assert journal_mode == "wal"


def test_it_loads_under_postgresql(tmp_path):
    result = run_manage(
        ["shell", "-c", SHOW_DB],
        {"DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql postgres" in result.stdout


def test_it_refuses_to_start_without_secret_key_in_production(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is missing or is the development default while DEBUG=0" in result.stderr


def test_it_refuses_to_start_without_encryption_keys_in_production(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ENCRYPTION_KEYS"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "ENCRYPTION_KEYS is missing while DEBUG=0" in result.stderr
    assert "generate_encryption_key" in result.stderr


def test_it_refuses_a_malformed_encryption_key(tmp_path):
    result = run_manage(["check"], {**PRODUCTION_ENV, "ENCRYPTION_KEYS": "k1:tooshort"}, tmp_path)
    assert result.returncode != 0
    assert "ENCRYPTION_KEYS: key 'k1' must be 32 bytes" in result.stderr


def test_it_refuses_the_development_secret_key_in_production(tmp_path):
    from config.settings import DEV_SECRET_KEY

    result = run_manage(["check"], {**PRODUCTION_ENV, "SECRET_KEY": DEV_SECRET_KEY}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr


@pytest.mark.parametrize("weak", ["changeme", "s" * 60, "0123456789" * 4])
def test_it_refuses_a_short_or_repetitive_secret_key_in_production(tmp_path, weak):
    """A SECRET_KEY that `check --deploy` calls weak (under 50 characters, or under 5 distinct
    ones) signs the sessions, the CSRF tokens and every credential-form link: guessable, it
    lets anyone forge a link. gunicorn, the worker and beat run no deploy checks, so such a
    key used to run production without a word."""
    result = run_manage(["check"], {**PRODUCTION_ENV, "SECRET_KEY": weak}, tmp_path)
    assert result.returncode == 78  # EX_CONFIG: no restarter starts it again
    assert result.stderr.startswith("error: SECRET_KEY is too weak while DEBUG=0"), result.stderr
    assert "token_urlsafe(50)" in result.stderr
    assert weak not in result.stderr


@pytest.mark.parametrize("empty", ["", " , "])
def test_it_refuses_an_empty_allowed_hosts_in_production(tmp_path, empty):
    """`ALLOWED_HOSTS=` (an env file's blank line) answered every request 400, the health
    probes' too, while the processes ran as if all were well."""
    result = run_manage(["check"], {**PRODUCTION_ENV, "ALLOWED_HOSTS": empty}, tmp_path)
    assert result.returncode == 78  # EX_CONFIG: no restarter starts it again
    assert result.stderr.startswith("error: ALLOWED_HOSTS is empty while DEBUG=0"), result.stderr


def test_it_refuses_a_trusted_origin_without_its_scheme(tmp_path):
    """`CSRF_TRUSTED_ORIGINS=provisioning.example.com` (the host, not the origin) was only a
    system check's error: manage.py stopped with a SystemCheckError block, while gunicorn,
    which runs no checks, served and refused every admin login from that origin (403)."""
    env = {**PRODUCTION_ENV, "CSRF_TRUSTED_ORIGINS": "provisioning.example.com"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode == 78  # EX_CONFIG: no restarter starts it again
    assert result.stderr.startswith(
        "error: CSRF_TRUSTED_ORIGINS: 'provisioning.example.com' is not an origin"
    ), result.stderr
    assert "https://provisioning.example.com" in result.stderr


def test_it_refuses_the_development_integrator_token_in_production(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "INTEGRATOR_API_TOKEN"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "INTEGRATOR_API_TOKEN is the development default" in result.stderr


def test_it_passes_the_deployment_checklist_in_production(tmp_path):
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_runs_celery_safely():
    from django.conf import settings

    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_RESULT_BACKEND is None
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {"default", "provisioning"}
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT + settings.CELERY_MAX_RETRY_COUNTDOWN


def test_in_development_the_service_public_url_is_the_port_make_run_was_given(tmp_path):
    # `PORT=19411 make run` exports WEB_PORT to the web server and the worker; the worker's
    # reconnect links (connection.failed) must open on that port, not on 8000.
    show = "from django.conf import settings; print(settings.SERVICE_PUBLIC_URL)"
    dev = {"DEBUG": "1", "ENV_FILE": ""}

    moved = run_manage(["shell", "-c", show], {**dev, "WEB_PORT": "19411"}, tmp_path)
    default = run_manage(["shell", "-c", show], dev, tmp_path)
    chosen = run_manage(
        ["shell", "-c", show],
        {**dev, "WEB_PORT": "19411", "SERVICE_PUBLIC_URL": "https://svc.example.com/"},
        tmp_path,
    )

    assert moved.stdout.strip().splitlines()[-1] == "http://127.0.0.1:19411", moved.stderr
    assert default.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8000", default.stderr
    assert chosen.stdout.strip().splitlines()[-1] == "https://svc.example.com", chosen.stderr


def test_the_worker_never_stops_trying_to_reconnect_to_the_broker():
    from config.celery import app

    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None  # None: forever


COUNT_PREPARED = (
    "from django.db import connection\n"
    "for n in range(8):\n"
    "    connection.cursor().execute('SELECT %s + 1', [n])\n"
    "print(connection.cursor().execute('SELECT count(*) FROM pg_prepared_statements')"
    ".fetchone()[0])"
)


def test_postgresql_plans_a_repeated_query_once_per_connection(tmp_path):
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres"}
    result = run_manage(["shell", "-c", COUNT_PREPARED], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) >= 1
    # Off, for a pooler in transaction mode that cannot keep prepared statements.
    env["DATABASE_PREPARED_STATEMENTS"] = "0"
    result = run_manage(["shell", "-c", COUNT_PREPARED], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) == 0


def test_a_developers_env_file_never_reaches_the_tests(tmp_path):
    """`make run` writes a .env (DEBUG=1, a SECRET_KEY): a test run after it behaves as on a
    fresh clone. The file is written here only if the checkout has none, and removed after."""
    dot_env = REPO_ROOT / ".env"
    written = not dot_env.exists()
    if written:
        dot_env.write_text("DEBUG=1\nSECRET_KEY=a-developers-own-secret-key-from-make-run\n")
    try:
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
        result = run_manage(["check"], env, tmp_path)
    finally:
        if written:
            dot_env.unlink()
    assert result.returncode != 0
    assert "SECRET_KEY is missing or is the development default while DEBUG=0" in result.stderr


def test_a_configuration_error_is_one_sentence_not_a_traceback(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode == 78  # EX_CONFIG: no restarter starts it again
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: SECRET_KEY is missing"), result.stderr


@pytest.mark.parametrize(
    ("name", "value"), [("PROVISIONING_MAX_ATTEMPTS", "eight"), ("RUNS_RATE_SHARE", "half")]
)
def test_a_setting_that_is_not_a_number_is_one_sentence_and_ex_config(tmp_path, name, value):
    """`PROVISIONING_MAX_ATTEMPTS=eight` was a ValueError's traceback and status 1, which a
    restarter (`make run`'s respawn, systemd) took for a crash and started again, for ever."""
    result = run_manage(["check"], {"DEBUG": "1", "ENV_FILE": "", name: value}, tmp_path)
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {name} must be a number"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_malformed_encryption_key_setting_never_repeats_the_key(tmp_path):
    from core.encryption import key_new

    key = key_new()
    for value in (key, f"k1={key}", f"k1:{key},{key}"):
        result = run_manage(["check"], {**PRODUCTION_ENV, "ENCRYPTION_KEYS": value}, tmp_path)
        assert result.returncode != 0
        assert "is not `id:key`" in result.stderr
        assert key not in result.stderr and key[:12] not in result.stderr
    doubled = run_manage(["check"], {**PRODUCTION_ENV, "ENCRYPTION_KEYS": f"k1:k1:{key}"}, tmp_path)
    assert "has its id twice" in doubled.stderr and key not in doubled.stderr


def test_a_key_is_generated_where_the_settings_refuse_to_load_without_one(tmp_path):
    """The first step of a production setup: ENCRYPTION_KEYS is not there yet."""
    from core.encryption import keyring_parse

    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ENCRYPTION_KEYS"}
    result = run_manage(["generate_encryption_key", "--id", "k2"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    entry = result.stdout.strip()
    assert entry.startswith("k2:")
    assert keyring_parse(entry).primary == "k2"  # what it prints is what ENCRYPTION_KEYS takes
    assert "Set ENCRYPTION_KEYS to this line" in result.stderr

    refused = run_manage(["generate_encryption_key", "--id", "bad id!"], env, tmp_path)
    assert refused.returncode != 0 and "--id must be" in refused.stderr


def test_a_rotation_key_gets_an_id_not_in_use(tmp_path):
    """README's rotation: a new entry first, then the keys in use. With ENCRYPTION_KEYS set, the
    generator's default id is one those keys do not use, so the new line loads as printed."""
    from core.encryption import key_new

    in_use = f"k1:{key_new()}"
    env = {**PRODUCTION_ENV, "ENCRYPTION_KEYS": in_use}
    result = run_manage(["generate_encryption_key"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    entry = result.stdout.strip()
    assert entry.startswith("k2:")
    rotated = run_manage(
        ["check"], {**PRODUCTION_ENV, "ENCRYPTION_KEYS": f"{entry},{in_use}"}, tmp_path
    )
    assert rotated.returncode == 0, rotated.stderr

    third = run_manage(
        ["generate_encryption_key"],
        {**PRODUCTION_ENV, "ENCRYPTION_KEYS": f"{entry},{in_use}"},
        tmp_path,
    )
    assert third.stdout.startswith("k3:")
    first = run_manage(
        ["generate_encryption_key"],
        {k: v for k, v in PRODUCTION_ENV.items() if k != "ENCRYPTION_KEYS"},
        tmp_path,
    )
    assert first.stdout.startswith("k1:")

    repeated = run_manage(
        ["check"], {**PRODUCTION_ENV, "ENCRYPTION_KEYS": f"k1:{key_new()},{in_use}"}, tmp_path
    )
    assert repeated.returncode != 0
    assert "appears twice" in repeated.stderr and "generate_encryption_key" in repeated.stderr


def test_env_example_copied_to_a_dot_env_loads_with_its_defaults(tmp_path):
    """`.env.example` lists every variable with its default; copied to `.env` (which the
    settings read, as systemd's EnvironmentFile reads such lines), each value must be the
    value alone. Its trailing `# comments` were read as part of the values: a traceback
    (`invalid literal for int(): '600           # longest retry countdown...'`)."""
    show = (
        "from django.conf import settings as s; "
        "print(s.CELERY_MAX_RETRY_COUNTDOWN, s.CONNECT_ACCENT_COLOR, s.LOG_FORMAT, "
        "s.INTEGRATOR_API_URL, s.ALLOWED_HOSTS, s.CELERY_BROKER_URL == s.REDIS_URL)"
    )
    env = {"ENV_FILE": str(REPO_ROOT / ".env.example"), "DEBUG": "1"}
    result = run_manage(["shell", "-c", show], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "600",
        "#4f46e5",
        "json",
        "http://127.0.0.1:8100/v1",
        "['localhost',",
        "'127.0.0.1',",
        "'[::1]']",
        "True",
    ]


def variables_the_settings_read() -> set[str]:
    """Every NAME of an env.str("NAME"), env.int("NAME", ...), os.environ.get("NAME") ... in
    config/settings.py: the first argument of a call, a constant in capitals."""
    tree = ast.parse((REPO_ROOT / "config" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", node.args[0].value)
    }


# Not settings of their own: which file to read (config/settings.py), and the port `make run`
# passes on to its web server (from PORT, listed under "make run only").
NOT_IN_ENV_EXAMPLE = {"ENV_FILE", "WEB_PORT"}


def test_env_example_lists_every_variable_the_settings_read():
    """The README and .env.example's first line promise every variable; DRIFT_CHECK_*,
    INTEGRATOR_TRUST_ENV and SERVICE_PUBLIC_URL were read by the settings, documented in the
    README's table, and missing there."""
    listed = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(), re.M)
    )

    missing = variables_the_settings_read() - NOT_IN_ENV_EXAMPLE - listed

    assert "SECRET_KEY" in listed and "DEBUG" in listed
    assert not missing, f"read by config/settings.py, missing from .env.example: {sorted(missing)}"


def test_a_rotation_key_gets_an_id_not_in_use_when_the_keys_are_in_the_env_file(tmp_path):
    """`make run` writes ENCRYPTION_KEYS into .env, which the settings read (the environment
    wins): the generator reads the same file, so that the rotation's new entry does not
    repeat an id in use (`k1:new,k1:old` would stop every process at start-up)."""
    from core.encryption import key_new

    env_file = tmp_path / "dev.env"
    env_file.write_text(f"DEBUG=1\nENCRYPTION_KEYS=k1:{key_new()}\n")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("ENCRYPTION_KEYS", "DEBUG")}

    from_file = run_manage(
        ["generate_encryption_key"], {**env, "ENV_FILE": str(env_file)}, tmp_path
    )
    environment_wins = run_manage(
        ["generate_encryption_key"],
        {**env, "ENV_FILE": str(env_file), "ENCRYPTION_KEYS": f"k2:{key_new()}"},
        tmp_path,
    )
    no_file = run_manage(["generate_encryption_key"], {**env, "ENV_FILE": ""}, tmp_path)

    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout.startswith("k2:"), from_file.stdout
    assert environment_wins.stdout.startswith("k1:"), environment_wins.stdout
    assert no_file.stdout.startswith("k1:"), no_file.stdout


def test_a_command_in_another_terminal_reads_the_addresses_make_run_gave_its_processes(tmp_path):
    """`PORT=9000 SANDBOX_PORT=9100 make run`, then, in another terminal, the README's
    `manage.py load_template ...`: .env holds no ports, so the command called the default
    sandbox port (8100), where nothing answered, and on the default Redis database, where it
    opened the deployment's circuit breaker and recorded `integrator.unavailable` webhooks for
    an outage that never was. The settings read, after .env, the `.env.run` beside it, which
    `make run` writes while it runs; the environment, and .env, still win."""
    show = (
        "from django.conf import settings as s; "
        "print(s.INTEGRATOR_API_URL, s.INTEGRATOR_EU_API_URL, s.REDIS_URL, "
        "s.CELERY_BROKER_URL, s.SERVICE_PUBLIC_URL, s.LOG_FORMAT)"
    )
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nLOG_FORMAT=json\n")
    (tmp_path / ".env.run").write_text(
        "WEB_PORT=9000\nINTEGRATOR_API_URL=http://127.0.0.1:9100/v1\n"
        "INTEGRATOR_EU_API_URL=http://127.0.0.1:9100/eu/v1\nREDIS_URL=redis://127.0.0.1:6379/7\n"
        "CELERY_BROKER_URL=redis://127.0.0.1:6379/7\nLOG_FORMAT=text\n"
    )

    result = run_manage(["shell", "-c", show], {"ENV_FILE": str(env_file)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "http://127.0.0.1:9100/v1",
        "http://127.0.0.1:9100/eu/v1",
        "redis://127.0.0.1:6379/7",
        "redis://127.0.0.1:6379/7",
        "http://127.0.0.1:9000",
        "json",  # .env's
    ]

    environment = {"ENV_FILE": str(env_file), "INTEGRATOR_API_URL": "http://elsewhere:1/v1"}
    result = run_manage(["shell", "-c", show], environment, tmp_path)
    assert result.stdout.strip().splitlines()[-1].split()[0] == "http://elsewhere:1/v1"


def test_a_key_id_already_in_use_is_refused(tmp_path):
    """`--id k1` where ENCRYPTION_KEYS has k1 printed a new `k1:` entry, which, put first as a
    rotation does, stopped every process at start-up ("appears twice")."""
    from core.encryption import key_new

    in_use = f"k1:{key_new()},k2:{key_new()}"
    env = {**PRODUCTION_ENV, "ENCRYPTION_KEYS": in_use}

    refused = run_manage(["generate_encryption_key", "--id", "k2"], env, tmp_path)

    assert refused.returncode != 0
    assert refused.stdout == ""  # no entry to copy
    assert "'k2' is already in use in ENCRYPTION_KEYS" in refused.stderr
    assert "--id k3" in refused.stderr  # the id to use instead
    assert in_use.split(",")[1].split(":")[1] not in refused.stderr
    free = run_manage(["generate_encryption_key", "--id", "next"], env, tmp_path)
    assert free.returncode == 0 and free.stdout.startswith("next:")


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("LOG_FORMAT", "xml", "error: LOG_FORMAT must be json or text"),
        ("LOG_LEVEL", "LOUD", "error: LOG_LEVEL must be one of"),
    ],
)
def test_a_log_setting_it_cannot_use_is_one_sentence_and_ex_config(tmp_path, name, value, said):
    """`LOG_FORMAT=xml` was logging's traceback ("Unable to configure handler 'console'")
    and status 1."""
    result = run_manage(["check"], {"DEBUG": "1", "ENV_FILE": "", name: value}, tmp_path)
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(said), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_log_level_in_lower_case_is_taken(tmp_path):
    result = run_manage(["check"], {"DEBUG": "1", "ENV_FILE": "", "LOG_LEVEL": "warning"}, tmp_path)
    assert result.returncode == 0, result.stderr

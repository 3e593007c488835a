"""Settings for every process of the service (web, worker, beat), read from the environment.

Every variable is listed in ``.env.example``. The defaults are the embedded development setup
(SQLite, local Redis, the sandbox); production sets ``DEBUG=0`` and real values, and start-up
refuses to continue when a value that production needs is missing or unsafe.
"""

import json
import os
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from core.encryption import development_key, keyring_parse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


class _Env(environ.Env):
    """A value that is not of its variable's kind (`PROVISIONING_MAX_ATTEMPTS=eight`) is a
    configuration error, told in one sentence (config/startup.py), not a ValueError's traceback
    whose exit status 1 a restarter takes for a crash. The value is not repeated: it may be a
    secret set in the wrong variable."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError:
            kind = {int: "a number (a whole one)", float: "a number"}.get(cast, "a valid value")
            raise ImproperlyConfigured(
                f"{var} must be {kind}, and its value is not: fix it in the environment or in "
                "the env file (.env, or the file ENV_FILE names)."
            ) from None


env = _Env()
# A developer's .env (written by `make run`) fills in what the real environment leaves unset;
# variables already in the environment always win. ENV_FILE names another file, or none when
# empty: the test suite sets it so, since its outcome must never depend on a developer's .env.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)
    # Then what .env leaves unset from `.env.run` beside it: the addresses a running `make run`
    # gave its processes (its ports, both regions' sandbox URLs, its Redis; scripts/run.sh writes
    # it, and removes it when the run ends). Without them a `manage.py` command in another
    # terminal called the default sandbox port and Redis database, not the run's, and could open
    # the deployment's circuit breaker over a sandbox that was simply elsewhere.
    if os.path.exists(f"{ENV_FILE}.run"):
        environ.Env.read_env(f"{ENV_FILE}.run", overwrite=False)

DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
DEV_INTEGRATOR_API_TOKEN = "dev-integrator-token"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or is the development default while DEBUG=0. "
        "Set SECRET_KEY to a long random value (for example: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or set DEBUG=1 for local development."
    )
# What `check --deploy` calls weak (security.W009), refused outright: the key signs sessions,
# CSRF tokens and every credential-form link, and gunicorn, the worker and beat run no deploy
# checks, so a guessable key would otherwise run production without a word.
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        f"SECRET_KEY is too weak while DEBUG=0 ({len(SECRET_KEY)} characters, "
        f"{len(set(SECRET_KEY))} distinct): it needs at least 50 random characters. "
        "Generate one with python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

# Keys for the few values kept encrypted at rest (core/encryption.py): "id:base64,..."; the
# first encrypts, all decrypt. Required when DEBUG=0; development derives one from SECRET_KEY.
ENCRYPTION_KEYS = env.str("ENCRYPTION_KEYS", default="")
if not ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS is missing while DEBUG=0. Generate a key with "
            "`python manage.py generate_encryption_key` and set ENCRYPTION_KEYS to the line "
            "it prints (k1:<key>). "
            "Keep it out of the database and its backups."
        )
    ENCRYPTION_KEYS = development_key(SECRET_KEY)
keyring_parse(ENCRYPTION_KEYS)  # a malformed value stops start-up here, with its reason

ALLOWED_HOSTS = [
    host.strip()
    for host in env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
    if host.strip()
]
if not DEBUG and not ALLOWED_HOSTS:
    # Django would answer every request 400, the health probes' too, with nothing at start-up.
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty while DEBUG=0: every request would be refused (400). Set it "
        "to the host names this service is reached by, comma-separated (for example "
        "provisioning.example.com), or leave it unset for localhost."
    )
CSRF_TRUSTED_ORIGINS = [
    origin.strip() for origin in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if origin.strip()
]
for _origin in CSRF_TRUSTED_ORIGINS:
    # Otherwise only a system check's error, which gunicorn, the worker and beat never run:
    # the web process would serve and refuse every form posted from that origin (403).
    if not re.match(r"https?://[^/\s]+$", _origin):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS: {_origin!r} is not an origin. Write each as a scheme and a "
            f"host, without a path: for example https://{_origin.split('://')[-1].strip('/')}."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Only for its translations: "5 minutes ago" in every language (connect.selectors).
    "django.contrib.humanize",
    # runserver serves static files through WhiteNoise, the middleware production uses,
    # rather than a handler of its own that bypasses every middleware (and the request id).
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "audit",
    "api",
    "tenants",
    "provisioning",
    "connect",
    "runs",
    "webhooks",
    "rollouts",
]

MIDDLEWARE = [
    # First: every answer, a static file or an HTTPS redirect too, has a request id, and every
    # line logged for it carries the id (config/request_id.py).
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside the request id's scope, so that its one warning line carries the id.
    "config.unavailable.DatabaseUnavailableMiddleware",
    # The health probes and /metrics, whatever host their caller names (an address, not the
    # public name): answered before CommonMiddleware's ALLOWED_HOSTS check (config/probes.py).
    "config.probes.ProbesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who acts in this request, for the audit log: the admin user (audit/context.py).
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The end customer's language on /connect/ pages, from the browser, without a cookie; the
    # link's own locale wins once the view has resolved it (connect/language.py).
    "connect.language.ConnectLanguageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.deployment",
                "core.context_processors.integrator_availability",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default="sqlite:///var/db.sqlite3")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a web process, a threaded worker and beat at once. WAL lets
    # readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so that two writers
    # queue on the busy timeout instead of failing with "database is locked" mid-transaction.
    _name = Path(_db["NAME"])
    if _db["NAME"] != ":memory:" and not _name.is_absolute():
        _name = BASE_DIR / _name
        _name.parent.mkdir(parents=True, exist_ok=True)
        _db["NAME"] = str(_name)
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Persistent connections are worth about 4x on the API (docs/performance.md).
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    # Server-side binding lets psycopg prepare a statement after a few executions on a
    # connection, so that PostgreSQL parses and plans the API's joined reads once per connection
    # instead of on every request (planning cost more than running them). Turn it off behind a
    # pooler in transaction mode that cannot keep prepared statements (PgBouncer < 1.21, or
    # without max_prepared_statements).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        _db.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The languages of the end customer's pages (docs/i18n.md): adding one is adding its catalogue
# under locale/ and an entry here. The admin and the API stay in English.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and whitenoise serves from (scripts/build_static.py builds it);
# relative to the repository unless absolute.
STATIC_ROOT = BASE_DIR / env.str("STATIC_ROOT", default="staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Host app API (/api/v1/) ------------------------------------------------------------------

# Request bodies above this answer 413. The API's largest body (a tenant with its settings)
# is a few kilobytes; the admin's template form is the biggest legitimate one.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "api.permissions.HasApiKey",
        "api.permissions.HasRequiredScope",
    ],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JsonParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.parsers.JsonContentNegotiation",
    # No `?format=`: DRF would take it as a renderer override and answer an unknown value 404
    # before the view's strict query could refuse it as the unknown parameter it is (only the
    # OpenAPI document takes it: api.parsers.FormatParameterContentNegotiation).
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.JsonRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "EXCEPTION_HANDLER": "api.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "STRICT_JSON": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Embedded integrations API",
    "DESCRIPTION": (
        "Register the host app's customers as tenants, collect their credentials (through a "
        "signed link to our form, or directly), and follow their integration's status. "
        "Authenticate with `Authorization: Bearer <key>`. Paths have no trailing slash. Every "
        'error has the shape `{"error": {"code", "message", "fields"?, "remote"?}}`. Requests '
        "are strict: unknown fields and query parameters are refused, values are taken as sent "
        "(no NUL characters). Writes accept an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    # 3.1 for its `webhooks`: the events the service sends are part of the contract.
    "OAS_VERSION": "3.1.0",
    # Swagger UI shows the tags in this order.
    "TAGS": [
        {"name": "tenants", "description": "The host app's customers, and their status."},
        {
            "name": "connections",
            "description": "A tenant's credentials: links to the hosted form, or credentials "
            "handed over directly.",
        },
        {
            "name": "templates",
            "description": "Integration templates: their connection slots, fields and settings.",
        },
        {
            "name": "jobs",
            "description": "The service's own jobs: provision, settings, repair, deprovision.",
        },
        {
            "name": "rollouts",
            "description": "Template versions taken to the tenants in waves, canary first; "
            "pins, and one tenant's version.",
        },
        {"name": "runs", "description": "A tenant's flows, their runs in integrator.io, health."},
        {
            "name": "webhooks",
            "description": "Where events are sent, and the log of their deliveries. The events "
            "themselves are under Webhooks.",
        },
        {
            "name": "orphans",
            "description": "What this deployment made in integrator.io and no tenant owns.",
        },
        {"name": "audit", "description": "Who changed what: the audit log, and its CSV export."},
        {"name": "meta", "description": "This API and its deployment."},
    ],
    "GET_LIB_DOC_EXCLUDES": "api.schema.lib_doc_excludes",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    # Swagger UI served from our own static files: self-hosted installs may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TenantStatusEnum": "tenants.models.TenantStatus",
        "ConnectionStatusEnum": "tenants.models.ConnectionStatus",
        "JobStatusEnum": "provisioning.models.JobStatus",
        "JobKindEnum": "provisioning.models.JobKind",
        "RunStatusEnum": "runs.models.RunStatus",
        "HealthStatusEnum": "runs.models.HealthStatus",
        "DeliveryStatusEnum": "webhooks.models.DeliveryStatus",
        "EventTypeEnum": "webhooks.models.EventType",
        "ConnectLinkStateEnum": "tenants.connect_links.LINK_STATES",
        "RolloutStatusEnum": "rollouts.models.RolloutStatus",
        "RolloutStrategyEnum": "rollouts.models.RolloutStrategy",
        "RolloutTenantStateEnum": "rollouts.models.RolloutTenantState",
        "IntegratorStateEnum": "core.integrator_outage.BREAKER_STATES",
        "IntegratorRegionEnum": "core.models.IntegratorRegion",
    },
    "PREPROCESSING_HOOKS": ["api.routes.schema_canonical_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_errors_and_idempotency",
        "api.schema.add_location_headers",
        "api.schema.add_non_empty_query_values",
        "api.schema.add_links",
        # After the enums hook: the events' one-value `type` enums stay inline.
        "api.webhook_schema.add_webhooks",
    ],
}

# --- Redis and Celery -----------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every key (and Celery queue) of this deployment is `<REDIS_KEY_PREFIX><identity>:...`, so
# deployments can share a Redis database (see core/namespace.py). Normally empty.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
# Jobs are tracked in our own models; a result backend would only duplicate that state.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# At-least-once delivery: a task is acknowledged after it finishes, and comes back if the worker
# dies mid-task. Every task must therefore be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Losing Redis does not cancel the tasks running (Celery 6 will default to cancelling them):
# they finish, their rows say so, and a redelivered copy finds its job done. Said here, not
# left to Celery's default (config/celery.py silences its notice about it).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# The longest countdown any task asks for on retry; the visibility timeout below must exceed
# the hard time limit plus this, or Redis redelivers a task that is merely waiting.
CELERY_MAX_RETRY_COUNTDOWN = env.int("CELERY_MAX_RETRY_COUNTDOWN", default=600)
# A web request that sends a task must answer within a couple of seconds when Redis is down
# or hung; the rows it committed are the outbox (core/outbox.py), so giving up is safe. A
# refused connection fails at once; a Redis that accepts but never answers (failover, a paused
# or overloaded server, a half-open connection) costs at most BROKER_SOCKET_TIMEOUT_SECONDS per
# attempt, and a publish makes two attempts (about 3 s in all, measured by
# tests/config/test_redis_down.py). The worker's consumer is not affected: it waits for
# messages in its event loop, where no socket timeout applies, with BRPOP's own 1 s timeout.
BROKER_SOCKET_TIMEOUT_SECONDS = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + CELERY_MAX_RETRY_COUNTDOWN + 300,
    "socket_timeout": BROKER_SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_SOCKET_TIMEOUT_SECONDS,
}
# Celery's default retries a publish 3 times. One quick retry covers a connection that went
# stale (a Redis failover); more would only hold the request. (CELERY_BROKER_CONNECTION_TIMEOUT
# does not reach Redis's sockets: kombu uses it as the deadline of its reconnect loop. The
# socket timeouts above are what bound each attempt.)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Provisioning talks to integrator.io for seconds at a time; its own queue keeps it from
# starving short tasks (webhooks, sweeps), and lets ops size its workers separately.
CELERY_TASK_QUEUES = (
    Queue("default", routing_key="default"),
    Queue("provisioning", routing_key="provisioning"),
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup otherwise closes the database connection after every task; reconnecting
# cost about a tenth of the worker's CPU in bench/provision.py. CONN_HEALTH_CHECKS still
# replaces a connection that went bad.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost Redis tries to reconnect for as long as it takes (2 s apart, growing to
# 30 s). Celery's default gives up after 100 attempts, about 45 minutes, and the worker exits:
# an outage of Redis would then outlast it. See config/redis_channel_close.py too.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Celery's persistent scheduler, but a periodic task that the broker could not take (Redis
# away) is one warning line instead of a traceback per due task (config/beat.py).
CELERY_BEAT_SCHEDULER = "config.beat:Scheduler"
# Periodic tasks; the apps that own them add entries here.
CELERY_BEAT_SCHEDULE: dict = {
    "purge-idempotency-records": {
        "task": "api.tasks.idempotency_records_purge_task",
        "schedule": 3600.0,
    },
    # Re-sends jobs whose message was lost or whose worker died.
    "provisioning-sweep": {"task": "provisioning.jobs_sweep", "schedule": 60.0},
}

if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_TASK_SOFT_TIME_LIMIT must be lower than CELERY_TASK_TIME_LIMIT."
    )

# --- integrator.io --------------------------------------------------------------------------

INTEGRATOR_API_URL = env.str("INTEGRATOR_API_URL", default="http://127.0.0.1:8100/v1")
INTEGRATOR_API_TOKEN = env.str("INTEGRATOR_API_TOKEN", default=DEV_INTEGRATOR_API_TOKEN)
# The API URL of each region, for integrator.io accounts other than the default one (which
# uses INTEGRATOR_API_URL) that set no URL of their own (core.accounts). Tests and `make run`
# point both at the sandbox, which serves the EU under /eu/v1.
INTEGRATOR_US_API_URL = env.str("INTEGRATOR_US_API_URL", default="https://api.integrator.io/v1")
INTEGRATOR_EU_API_URL = env.str("INTEGRATOR_EU_API_URL", default="https://api.eu.integrator.io/v1")
# Where the sandbox reaches its own demo apps (the sandbox reads the same variable); empty: the
# sandbox's address in INTEGRATOR_API_URL. The demo template's help texts show it to the user
# as `{sandbox_url}` (connect/forms.py).
SANDBOX_PUBLIC_URL = env.str("SANDBOX_PUBLIC_URL", default="")
INTEGRATOR_TIMEOUT_SECONDS = env.float("INTEGRATOR_TIMEOUT_SECONDS", default=15.0)
# 1: integrator.io calls honour HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE and .netrc from the
# environment (needed behind an egress proxy); 0 skips those lookups, about 25% cheaper per
# call (docs/performance.md).
INTEGRATOR_TRUST_ENV = env.bool("INTEGRATOR_TRUST_ENV", default=False)
# While an API request or a form submission waits: the longest its integrator.io calls wait for
# the rate limit and retries, in all, before it answers 429 or 503 with Retry-After.
INTEGRATOR_REQUEST_WAIT_SECONDS = env.float("INTEGRATOR_REQUEST_WAIT_SECONDS", default=2.0)
# While an API request or a form submission waits: the longest all its integrator.io calls
# take together (each call's timeout is cut to what is left; a call with none left is not
# sent, and the caller hears 503 with Retry-After). Under the web server's own timeout
# (gunicorn's --timeout, 30 s by default), which would otherwise kill the request half done,
# with no answer: gunicorn refuses to start otherwise (config/startup.py).
INTEGRATOR_REQUEST_BUDGET_SECONDS = env.float("INTEGRATOR_REQUEST_BUDGET_SECONDS", default=20.0)
# The account's limit is a leaky bucket of 1000 refilled at 300/s; run below it to leave room
# for other users of the same account (e.g. 240 for 80%).
INTEGRATOR_RATE_LIMIT_BURST = env.int("INTEGRATOR_RATE_LIMIT_BURST", default=1000)
INTEGRATOR_RATE_LIMIT_PER_SECOND = env.float("INTEGRATOR_RATE_LIMIT_PER_SECOND", default=300.0)
# 1: share the account's bucket with every other deployment on the same Redis that uses the
# same API token (they spend one account's budget); 0: this deployment's own bucket.
INTEGRATOR_RATE_LIMIT_SHARED = env.bool("INTEGRATOR_RATE_LIMIT_SHARED", default=False)
# Priority lanes in the shared bucket (integrator/rate_limit.py): the share of the burst that
# provisioning jobs and rollouts must leave in it, and the (larger) share background reads
# (run sync, connection checks, drift, orphan scans) must leave. Calls a person waits for take
# from the whole bucket. 0 and 0: no lanes (every caller reserves its token in turn).
INTEGRATOR_RATE_LIMIT_JOBS_FLOOR = env.float("INTEGRATOR_RATE_LIMIT_JOBS_FLOOR", default=0.05)
INTEGRATOR_RATE_LIMIT_BACKGROUND_FLOOR = env.float(
    "INTEGRATOR_RATE_LIMIT_BACKGROUND_FLOOR", default=0.10
)
if not (0 <= INTEGRATOR_RATE_LIMIT_JOBS_FLOOR <= INTEGRATOR_RATE_LIMIT_BACKGROUND_FLOOR <= 0.25):
    raise ImproperlyConfigured(
        "INTEGRATOR_RATE_LIMIT_JOBS_FLOOR must be at most INTEGRATOR_RATE_LIMIT_BACKGROUND_FLOOR, "
        "both between 0 and 0.25 (shares of the burst)."
    )
# The circuit breaker shared by every process (integrator/circuit_breaker.py): after
# INTEGRATOR_BREAKER_FAILURES consecutive "unwell" answers (no connection, timeout, 5xx) calls
# fail at once for INTEGRATOR_BREAKER_PROBE_SECONDS, then one call probes. 0 disables it.
INTEGRATOR_BREAKER_ENABLED = env.bool("INTEGRATOR_BREAKER_ENABLED", default=True)
INTEGRATOR_BREAKER_FAILURES = env.int("INTEGRATOR_BREAKER_FAILURES", default=5)
INTEGRATOR_BREAKER_PROBE_SECONDS = env.float("INTEGRATOR_BREAKER_PROBE_SECONDS", default=10.0)
if INTEGRATOR_BREAKER_FAILURES < 1 or INTEGRATOR_BREAKER_PROBE_SECONDS <= 0:
    raise ImproperlyConfigured(
        "INTEGRATOR_BREAKER_FAILURES must be >= 1 and INTEGRATOR_BREAKER_PROBE_SECONDS > 0."
    )
# While an account's breaker is open, one read each probe interval finds integrator.io back
# even when nothing else calls it (provisioning/outage_probe.py).
CELERY_BEAT_SCHEDULE["provisioning-outage-probe"] = {
    "task": "provisioning.outage_probe",
    "schedule": INTEGRATOR_BREAKER_PROBE_SECONDS,
}

# /readyz asks integrator.io's /tokenInfo for each account (config/health.py) and reuses the
# answer for this long: the probe is public and polled by every pod, and its calls are outside
# the rate limiter, so they must not spend the account's budget per request. 0: ask every time.
READYZ_INTEGRATOR_CHECK_SECONDS = env.float("READYZ_INTEGRATOR_CHECK_SECONDS", default=10.0)
if READYZ_INTEGRATOR_CHECK_SECONDS < 0:
    raise ImproperlyConfigured("READYZ_INTEGRATOR_CHECK_SECONDS must be 0 or more.")

# The first part of every mark this service leaves on integrator.io resources (see
# core/remote_marks.py); the deployment's identity follows it.
PROVISIONING_TAG_PREFIX = env.str("PROVISIONING_TAG_PREFIX", default="embedded")
if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", PROVISIONING_TAG_PREFIX):
    raise ImproperlyConfigured(
        "PROVISIONING_TAG_PREFIX must be letters, digits and dashes (e.g. 'embedded')."
    )

if not DEBUG and INTEGRATOR_API_TOKEN == DEV_INTEGRATOR_API_TOKEN:
    raise ImproperlyConfigured(
        "INTEGRATOR_API_TOKEN is the development default while DEBUG=0. "
        "Set it to an integrator.io API token (Resources > API tokens)."
    )

# --- Provisioning engine (provisioning/policy.py) ------------------------------------------------

# Task runs (claims) allowed per job that end without recording an outcome (the worker died, the
# lease ran out) before it fails for good: the cap that stops a poison job. Runs postponed by
# integrator.io being unavailable do not count (PROVISIONING_RETRY_WINDOW_SECONDS bounds those).
PROVISIONING_MAX_ATTEMPTS = env.int("PROVISIONING_MAX_ATTEMPTS", default=8)
# How long a job keeps retrying while integrator.io is unavailable (5xx, 429, network, circuit
# open), from its first such postponement, before it fails for good.
PROVISIONING_RETRY_WINDOW_SECONDS = env.float(
    "PROVISIONING_RETRY_WINDOW_SECONDS", default=24 * 3600.0
)
# Retry countdown: jittered base * 2**(attempt-1), capped (retry_policy).
PROVISIONING_RETRY_BASE_SECONDS = env.float("PROVISIONING_RETRY_BASE_SECONDS", default=2.0)
PROVISIONING_RETRY_MAX_SECONDS = env.float("PROVISIONING_RETRY_MAX_SECONDS", default=300.0)
# Before looking up a clone whose answer was lost, wait this long for a slow request to land.
PROVISIONING_OUTCOME_SETTLE_SECONDS = env.float("PROVISIONING_OUTCOME_SETTLE_SECONDS", default=30.0)
# A worker owns a job this long past its latest sign of life; longer than the longest call.
PROVISIONING_LEASE_SECONDS = env.float("PROVISIONING_LEASE_SECONDS", default=180.0)
# A queued job still unclaimed this long after it was due lost its message: sent again.
PROVISIONING_SWEEP_GRACE_SECONDS = env.float("PROVISIONING_SWEEP_GRACE_SECONDS", default=120.0)
# How long one admin action (Provision, Repair, Deprovision... on a selection) may run before
# it stops starting objects and names those it did not reach: under the web server's request
# timeout (gunicorn's 30 s), which would otherwise kill the request half done (core.admin_display).
ADMIN_ACTION_SECONDS = env.float("ADMIN_ACTION_SECONDS", default=20.0)
if ADMIN_ACTION_SECONDS <= 0:
    raise ImproperlyConfigured("ADMIN_ACTION_SECONDS must be positive.")

if PROVISIONING_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("PROVISIONING_MAX_ATTEMPTS must be at least 1.")
if not 0 < PROVISIONING_RETRY_BASE_SECONDS <= PROVISIONING_RETRY_MAX_SECONDS:
    raise ImproperlyConfigured(
        "PROVISIONING_RETRY_BASE_SECONDS must be positive and at most "
        "PROVISIONING_RETRY_MAX_SECONDS."
    )
# Redis redelivers a message held longer than its visibility timeout; a countdown beyond the
# one the timeout was sized for would be run twice.
if PROVISIONING_RETRY_MAX_SECONDS > CELERY_MAX_RETRY_COUNTDOWN:
    raise ImproperlyConfigured(
        "PROVISIONING_RETRY_MAX_SECONDS must not exceed CELERY_MAX_RETRY_COUNTDOWN "
        f"({CELERY_MAX_RETRY_COUNTDOWN})."
    )
if PROVISIONING_OUTCOME_SETTLE_SECONDS > PROVISIONING_RETRY_MAX_SECONDS:
    raise ImproperlyConfigured(
        "PROVISIONING_OUTCOME_SETTLE_SECONDS must not exceed PROVISIONING_RETRY_MAX_SECONDS."
    )
if PROVISIONING_LEASE_SECONDS <= 2 * INTEGRATOR_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "PROVISIONING_LEASE_SECONDS must be more than twice INTEGRATOR_TIMEOUT_SECONDS "
        f"({INTEGRATOR_TIMEOUT_SECONDS}): a lease shorter than one API call lets a second "
        "worker take a job whose call is still in flight."
    )
if INTEGRATOR_REQUEST_BUDGET_SECONDS <= 0:
    raise ImproperlyConfigured("INTEGRATOR_REQUEST_BUDGET_SECONDS must be positive.")
if PROVISIONING_SWEEP_GRACE_SECONDS <= 0:
    raise ImproperlyConfigured("PROVISIONING_SWEEP_GRACE_SECONDS must be positive.")
if PROVISIONING_RETRY_WINDOW_SECONDS <= 0:
    raise ImproperlyConfigured("PROVISIONING_RETRY_WINDOW_SECONDS must be positive.")

# --- Orphans (provisioning.orphan_scan) -----------------------------------------------------------

# How often every integrator.io account is scanned for what this deployment made and no tenant
# owns (two paged reads per account: integrations and connections), and how old a find must be
# before it counts (a job may be about to commit it).
ORPHANS_SCAN_INTERVAL_SECONDS = env.int("ORPHANS_SCAN_INTERVAL_SECONDS", default=600)
ORPHANS_GRACE_SECONDS = env.int("ORPHANS_GRACE_SECONDS", default=600)
# 1: delete every orphan found, remotely, without asking. Off by default: a person decides.
ORPHANS_AUTO_DELETE = env.bool("ORPHANS_AUTO_DELETE", default=False)
if ORPHANS_SCAN_INTERVAL_SECONDS < 10 or ORPHANS_GRACE_SECONDS < 0:
    raise ImproperlyConfigured(
        "ORPHANS_SCAN_INTERVAL_SECONDS must be at least 10 and ORPHANS_GRACE_SECONDS not negative."
    )
CELERY_BEAT_SCHEDULE["provisioning-orphans-scan"] = {
    "task": "provisioning.orphans_scan",
    "schedule": float(ORPHANS_SCAN_INTERVAL_SECONDS),
}

# --- Drift (provisioning.drift) -------------------------------------------------------------------

# How often each live tenant's integration is compared with its version (four reads each), and
# how many tenants a tick checks at most: the check's share of the call budget is
# 4 x DRIFT_CHECK_BATCH calls per DRIFT_CHECK_TICK_SECONDS.
DRIFT_CHECK_INTERVAL_SECONDS = env.int("DRIFT_CHECK_INTERVAL_SECONDS", default=3600)
DRIFT_CHECK_TICK_SECONDS = env.int("DRIFT_CHECK_TICK_SECONDS", default=60)
DRIFT_CHECK_BATCH = env.int("DRIFT_CHECK_BATCH", default=50)
if DRIFT_CHECK_TICK_SECONDS < 5 or DRIFT_CHECK_BATCH < 1 or DRIFT_CHECK_INTERVAL_SECONDS < 60:
    raise ImproperlyConfigured(
        "DRIFT_CHECK_TICK_SECONDS must be at least 5, DRIFT_CHECK_BATCH at least 1 and "
        "DRIFT_CHECK_INTERVAL_SECONDS at least 60."
    )
CELERY_BEAT_SCHEDULE["provisioning-drift-check"] = {
    "task": "provisioning.drift_check",
    "schedule": float(DRIFT_CHECK_TICK_SECONDS),
}

# --- Runs and health (runs) --------------------------------------------------------------------

# Mirroring runs and checking connections may use at most this share of each integrator.io
# account's rate (its own, else INTEGRATOR_RATE_LIMIT_PER_SECOND; 80% of it for run sync, 20%
# for checks); the rest is left
# for provisioning and the API. The run sync is one account-wide cycle every
# RUNS_SYNC_INTERVAL_SECONDS: a quiet one is 1 call whatever the number of tenants, a busy one a
# page per 1,000 runs (runs/account_sync.py). See runs/call_budget.py.
RUNS_RATE_SHARE = env.float("RUNS_RATE_SHARE", default=0.25)
RUNS_SYNC_INTERVAL_SECONDS = env.int("RUNS_SYNC_INTERVAL_SECONDS", default=300)
RUNS_CHECK_INTERVAL_SECONDS = env.int("RUNS_CHECK_INTERVAL_SECONDS", default=3600)
# How often beat sends the due sync cycles and check batches (and a check hand-out's budget).
RUNS_SYNC_TICK_SECONDS = env.int("RUNS_SYNC_TICK_SECONDS", default=30)
# A flow whose last N finished runs all failed makes its tenant degraded.
RUNS_FAILED_RUNS_TO_DEGRADE = env.int("RUNS_FAILED_RUNS_TO_DEGRADE", default=3)

# How the account keeps a run's errors: "2" Error Management 2.0 (per-step errors, resolve and
# retry; new accounts), "1" the older per-job joberrors, "auto" find out with one probe and
# remember it for an hour in each process (runs/error_management.py, docs/integrator-io.md).
INTEGRATOR_ERROR_MANAGEMENT = env.str("INTEGRATOR_ERROR_MANAGEMENT", default="auto")
if INTEGRATOR_ERROR_MANAGEMENT not in ("auto", "1", "2"):
    raise ImproperlyConfigured('INTEGRATOR_ERROR_MANAGEMENT must be "auto", "1" or "2".')

if not 0 < RUNS_RATE_SHARE <= 1:
    raise ImproperlyConfigured("RUNS_RATE_SHARE must be more than 0 and at most 1.")
if not 1 <= RUNS_SYNC_TICK_SECONDS <= min(RUNS_SYNC_INTERVAL_SECONDS, RUNS_CHECK_INTERVAL_SECONDS):
    raise ImproperlyConfigured(
        "RUNS_SYNC_TICK_SECONDS must be at least 1 and at most the sync and check intervals."
    )
if RUNS_FAILED_RUNS_TO_DEGRADE < 1:
    raise ImproperlyConfigured("RUNS_FAILED_RUNS_TO_DEGRADE must be at least 1.")

# --- Webhooks to the host app (webhooks) --------------------------------------------------------

# Endpoint secrets are derived from this key (only a random salt per endpoint is stored), so
# keep it stable: changing it changes every endpoint's secret. Empty: derived from SECRET_KEY.
WEBHOOK_SIGNING_KEY = env.str("WEBHOOK_SIGNING_KEY", default="")
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# After a secret is rotated, deliveries are signed with the old secret too for this long, so
# that the host app can deploy the new one without refusing what arrives meanwhile (the API's
# rotate call may ask for another expiry, up to 7 days; 0: the old secret stops at once).
WEBHOOK_SECRET_ROTATION_GRACE_SECONDS = env.int(
    "WEBHOOK_SECRET_ROTATION_GRACE_SECONDS", default=24 * 3600
)
# Retries on 5xx, 429 and timeouts: base * 2^n with jitter, at least Retry-After, at most
# WEBHOOK_RETRY_MAX_SECONDS, WEBHOOK_MAX_ATTEMPTS attempts in all, then dead-lettered.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
WEBHOOK_RETRY_MAX_SECONDS = env.int(
    "WEBHOOK_RETRY_MAX_SECONDS", default=min(600, CELERY_MAX_RETRY_COUNTDOWN)
)

if WEBHOOK_RETRY_MAX_SECONDS > CELERY_MAX_RETRY_COUNTDOWN:
    raise ImproperlyConfigured(
        "WEBHOOK_RETRY_MAX_SECONDS must not exceed CELERY_MAX_RETRY_COUNTDOWN."
    )
if not 0 <= WEBHOOK_SECRET_ROTATION_GRACE_SECONDS <= 7 * 24 * 3600:
    raise ImproperlyConfigured(
        "WEBHOOK_SECRET_ROTATION_GRACE_SECONDS must be from 0 to 604800 (7 days)."
    )
if WEBHOOK_MAX_ATTEMPTS < 1 or WEBHOOK_TIMEOUT_SECONDS <= 0 or WEBHOOK_RETRY_BASE_SECONDS < 0:
    raise ImproperlyConfigured(
        "WEBHOOK_MAX_ATTEMPTS must be at least 1, WEBHOOK_TIMEOUT_SECONDS positive and "
        "WEBHOOK_RETRY_BASE_SECONDS not negative."
    )

CELERY_BEAT_SCHEDULE.update(
    {
        # Hand out the tenants due for a run sync / a connection check, within the budget.
        "runs-sync-tick": {"task": "runs.sync_tick", "schedule": float(RUNS_SYNC_TICK_SECONDS)},
        "runs-check-tick": {"task": "runs.check_tick", "schedule": float(RUNS_SYNC_TICK_SECONDS)},
        # Re-send deliveries whose message was lost or whose worker died.
        "webhooks-sweep": {"task": "webhooks.deliveries_sweep", "schedule": 30.0},
        "webhooks-purge": {"task": "webhooks.records_purge", "schedule": 86400.0},
        # Integrator.io call counts per tenant are kept 90 days (tenants.call_costs).
        "tenants-call-counts-purge": {"task": "tenants.call_counts_purge", "schedule": 86400.0},
    }
)

# --- Audit log (audit) ---------------------------------------------------------------------------

# Audit events older than this are deleted by beat's daily prune, the only deletion there is.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1.")
CELERY_BEAT_SCHEDULE["audit-events-prune"] = {"task": "audit.events_prune", "schedule": 86400.0}

# --- Rollouts (rollouts) ----------------------------------------------------------------------

# While a wave's upgrade jobs run, the driver looks at them this often; beat's tick, the safety
# net for a driver message that was lost, this often too (rollouts/driver.py).
ROLLOUTS_POLL_SECONDS = env.float("ROLLOUTS_POLL_SECONDS", default=5.0)
ROLLOUTS_TICK_SECONDS = env.int("ROLLOUTS_TICK_SECONDS", default=15)
if not 0 < ROLLOUTS_POLL_SECONDS <= 600 or ROLLOUTS_TICK_SECONDS < 1:
    raise ImproperlyConfigured(
        "ROLLOUTS_POLL_SECONDS must be more than 0 and at most 600; ROLLOUTS_TICK_SECONDS at "
        "least 1."
    )
CELERY_BEAT_SCHEDULE["rollouts-tick"] = {
    "task": "rollouts.tick",
    "schedule": float(ROLLOUTS_TICK_SECONDS),
}

# --- Credential forms (connect) ----------------------------------------------------------------

# What the end user sees on /connect/ pages; a host app brands them as its own.
CONNECT_PRODUCT_NAME = env.str("CONNECT_PRODUCT_NAME", default="Integrations")
CONNECT_LOGO_URL = env.str("CONNECT_LOGO_URL", default="")
CONNECT_ACCENT_COLOR = env.str("CONNECT_ACCENT_COLOR", default="#4f46e5")
# Credential submissions accepted per link per minute: enough for typos, too few to try keys
# in bulk through our ping.
CONNECT_SUBMISSIONS_PER_MINUTE = env.int("CONNECT_SUBMISSIONS_PER_MINUTE", default=10)
# Failed admin sign-ins per user name and address in 15 minutes (core.login_limit).
ADMIN_LOGIN_MAX_FAILURES = env.int("ADMIN_LOGIN_MAX_FAILURES", default=10)
# The proxies in front that append to X-Forwarded-For (a TLS proxy: 1); 0 ignores the header
# (core.client_address).
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)

if not re.fullmatch(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}", CONNECT_ACCENT_COLOR):
    raise ImproperlyConfigured(
        f"CONNECT_ACCENT_COLOR must be a hex colour such as #4f46e5, not {CONNECT_ACCENT_COLOR!r}."
    )
if CONNECT_LOGO_URL and not re.fullmatch(r"(https?://|/)[^\s\"'<>]+", CONNECT_LOGO_URL):
    raise ImproperlyConfigured(
        "CONNECT_LOGO_URL must be an http(s) URL or a path starting with /, "
        f"not {CONNECT_LOGO_URL!r}."
    )
if CONNECT_SUBMISSIONS_PER_MINUTE < 1:
    raise ImproperlyConfigured("CONNECT_SUBMISSIONS_PER_MINUTE must be at least 1.")
if ADMIN_LOGIN_MAX_FAILURES < 1:
    raise ImproperlyConfigured("ADMIN_LOGIN_MAX_FAILURES must be at least 1.")
if TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_HOPS must be 0 or more.")

# The host's OAuth 2 clients, one per app that OAuth slots name (`oauth.client` in a template):
# JSON {"crm": {"client_id": "...", "client_secret": "...", "token_url": "https://..."}}. The
# token URL is the only place the secret is sent (a template's slot must name the same one).
# The bootstrap and fallback: an OAuth client record set in the admin (its secret encrypted,
# tenants.oauth_clients) wins. Development (DEBUG=1) defaults to the sandbox's demo CRM client,
# whose values are documented demo values, not secrets (sandbox/README.md); its `{sandbox_url}`
# is the sandbox's address.
_DEMO_OAUTH_CLIENTS = (
    '{"crm": {"client_id": "demo-crm-client", "client_secret": "demo-crm-secret-not-a-secret", '
    '"token_url": "{sandbox_url}/_demo/crm/oauth/token"}}'
)
OAUTH_CLIENTS = json.loads(
    env.str("OAUTH_CLIENTS", default=_DEMO_OAUTH_CLIENTS if DEBUG else "{}") or "{}"
)
if not isinstance(OAUTH_CLIENTS, dict) or not all(
    isinstance(entry, dict)
    and isinstance(entry.get("client_id"), str)
    and isinstance(entry.get("client_secret"), str)
    and isinstance(entry.get("token_url", ""), str)
    for entry in OAUTH_CLIENTS.values()
):
    raise ImproperlyConfigured(
        'OAUTH_CLIENTS must be JSON {"<app>": {"client_id": "...", "client_secret": "...", '
        '"token_url": "https://..."}}.'
    )
# This service's public address (scheme and host, no path), for the links it makes without a
# request to take the host from: the reconnect link of a `connection.failed` webhook. Unset, such
# a link is a path (`/connect/...`) for the host app to put its idea of our address in front of.
# In development it is the web server `make run` starts, on the port it was given
# (`PORT=9000 make run` exports WEB_PORT to every process): a link to :8000 would not open.
SERVICE_PUBLIC_URL = env.str(
    "SERVICE_PUBLIC_URL",
    default=f"http://127.0.0.1:{env.str('WEB_PORT', default='8000')}" if DEBUG else "",
).rstrip("/")
# How long a started OAuth consent may take before its `state` expires (seconds).
CONNECT_OAUTH_STATE_SECONDS = env.int("CONNECT_OAUTH_STATE_SECONDS", default=600)

# --- HTTP security (production) ---------------------------------------------------------------

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A TLS-terminating proxy sits in front in production; it must set this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes from the orchestrator (and Prometheus's scrapes) speak plain HTTP inside the private
# network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Logging --------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").strip().upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json").strip().lower()
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
if LOG_LEVEL not in _LOG_LEVELS:
    # Checked here: logging's own refusal is a traceback ("Unable to configure logger").
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)} (got {LOG_LEVEL[:20]!r})."
    )
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text (got {LOG_FORMAT[:20]!r}).")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "refusal": {"()": "config.structured_logging.RefusalTracebackFilter"},
        "context": {"()": "config.structured_logging.ContextFilter"},
        "redact": {"()": "config.structured_logging.RedactionFilter"},
    },
    "formatters": {
        "json": {"()": "config.structured_logging.JsonFormatter"},
        "text": {
            "format": (
                "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s tenant=%(tenant_id)s "
                "job=%(job_id)s trace=%(trace_id)s] %(message)s"
            ),
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["refusal", "context", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own default handlers bypass our filters; route everything through ours.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Metrics and traces (docs/operations.md) ------------------------------------------------

# The bearer token that /metrics (and a worker's metrics port) asks for. Unset: /metrics answers
# 404, as if it did not exist; it is never public.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A Celery worker's own metrics endpoint (http://0.0.0.0:<port>/metrics, same token), for
# deployments where workers do not share PROMETHEUS_MULTIPROC_DIR with a web server. 0: none.
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
# OpenTelemetry tracing (core/tracing.py), off by default.
OTEL_ENABLED = env.bool("OTEL_ENABLED", default=False)
OTEL_EXPORTER = env.str("OTEL_EXPORTER", default="otlp")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="embedded-integrations")
if OTEL_EXPORTER not in ("otlp", "console", "none"):
    raise ImproperlyConfigured(
        f"OTEL_EXPORTER must be otlp, console or none, not {OTEL_EXPORTER!r}."
    )
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters (a random value).")
if not 0 <= METRICS_WORKER_PORT <= 65535:
    raise ImproperlyConfigured("METRICS_WORKER_PORT must be a port number, or 0 for none.")

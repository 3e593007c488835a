"""Settings for every process of the service (web, worker, beat), read from the environment.

Every variable is listed in ``.env.example``. The defaults are the embedded development setup
(SQLite, local Redis, the sandbox); production sets ``DEBUG=0`` and real values, and start-up
refuses to continue when a value that production needs is missing or unsafe.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A developer's .env (written by `make run`) fills in what the real environment leaves unset;
# variables already in the environment always win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

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

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "tenants",
    "provisioning",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.request_id.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    # Persistent connections are worth about 4x on the API (see shared performance notes).
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True

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
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

# --- Redis and Celery -----------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

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
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# The longest countdown any task asks for on retry; the visibility timeout below must exceed
# the hard time limit plus this, or Redis redelivers a task that is merely waiting.
CELERY_MAX_RETRY_COUNTDOWN = env.int("CELERY_MAX_RETRY_COUNTDOWN", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + CELERY_MAX_RETRY_COUNTDOWN + 300,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Provisioning talks to integrator.io for seconds at a time; its own queue keeps it from
# starving short tasks (webhooks, sweeps), and lets ops size its workers separately.
CELERY_TASK_QUEUES = (Queue("default"), Queue("provisioning"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic tasks; the apps that own them add entries here.
CELERY_BEAT_SCHEDULE: dict = {}

if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_TASK_SOFT_TIME_LIMIT must be lower than CELERY_TASK_TIME_LIMIT."
    )

# --- integrator.io --------------------------------------------------------------------------

INTEGRATOR_API_URL = env.str("INTEGRATOR_API_URL", default="http://127.0.0.1:8100/v1")
INTEGRATOR_API_TOKEN = env.str("INTEGRATOR_API_TOKEN", default=DEV_INTEGRATOR_API_TOKEN)
INTEGRATOR_TIMEOUT_SECONDS = env.float("INTEGRATOR_TIMEOUT_SECONDS", default=15.0)
# The account's limit is a leaky bucket of 1000 refilled at 300/s; run below it to leave room
# for other users of the same account (e.g. 240 for 80%).
INTEGRATOR_RATE_LIMIT_BURST = env.int("INTEGRATOR_RATE_LIMIT_BURST", default=1000)
INTEGRATOR_RATE_LIMIT_PER_SECOND = env.float("INTEGRATOR_RATE_LIMIT_PER_SECOND", default=300.0)

if not DEBUG and INTEGRATOR_API_TOKEN == DEV_INTEGRATOR_API_TOKEN:
    raise ImproperlyConfigured(
        "INTEGRATOR_API_TOKEN is the development default while DEBUG=0. "
        "Set it to an integrator.io API token (Resources > API tokens)."
    )

# --- HTTP security (production) ---------------------------------------------------------------

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A TLS-terminating proxy sits in front in production; it must set this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes from the orchestrator speak plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Logging --------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "config.structured_logging.ContextFilter"},
        "redact": {"()": "config.structured_logging.RedactionFilter"},
    },
    "formatters": {
        "json": {"()": "config.structured_logging.JsonFormatter"},
        "text": {
            "format": (
                "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s tenant=%(tenant_id)s "
                "job=%(job_id)s] %(message)s"
            ),
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}

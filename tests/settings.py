"""Settings for the test suite: the service's settings on the test PostgreSQL and Redis.

The test run reads TEST_DATABASE_URL and TEST_REDIS_URL, never the developer's DATABASE_URL or
REDIS_URL, so that a test run cannot touch the developer's own data.
"""

import os
import uuid

# Never the developer's .env (`make run` writes one): the suite's outcome must not depend on
# it. Subprocesses the tests start inherit this.
os.environ["ENV_FILE"] = ""
os.environ["DEBUG"] = "1"
os.environ["DATABASE_URL"] = os.environ.get(
    "TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/provisioning"
)
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.pop("CELERY_BROKER_URL", None)

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.celery_probe"]
# Queues and keys of this run are prefixed (before the deployment's own namespace), so that
# concurrent test runs sharing one Redis database never take each other's tasks. The worker
# subprocess inherits the same id.
TEST_RUN_ID = os.environ.setdefault("TEST_RUN_ID", uuid.uuid4().hex[:10])
REDIS_KEY_PREFIX = f"test-{TEST_RUN_ID}:"
# /readyz asks integrator.io on every request, as each test expects of its own sandbox and
# faults; tests/config/test_health.py sets the interval where it tests it.
READYZ_INTEGRATOR_CHECK_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Whitenoise warns on every request when STATIC_ROOT does not exist (nothing is collected for
# tests: DEBUG serves static files from the apps). An empty directory of the run's own.
STATIC_ROOT = VAR_DIR / "test-staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

"""A developer runs one test, or a few, by name (`pytest path::name`, `-k`): a test that needs
the database only through the worker it starts must pass alone as in the whole suite."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_ONLY_TEST = (
    "tests/config/test_metrics_worker.py::"
    "test_a_worker_answers_head_as_get_without_the_body_and_refuses_other_methods"
)


def test_a_test_that_needs_the_database_only_through_its_worker_passes_alone():
    # pytest-django created no test database when no collected test asked for one, and the
    # worker met the developer's own database name: "database ... does not exist".
    db = settings.DATABASES["default"]
    server = (
        f"{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    )
    url = f"postgres://{server}/alone_{uuid.uuid4().hex[:8]}"  # a database no run has made
    env = {**os.environ, "TEST_DATABASE_URL": url, "TEST_RUN_ID": uuid.uuid4().hex[:10]}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", WORKER_ONLY_TEST],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout

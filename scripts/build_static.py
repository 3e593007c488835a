"""Collect the static files into STATIC_ROOT, with the storage that serves them in production.

    python scripts/build_static.py          # the Dockerfile's build step; STATIC_ROOT may be set

With DEBUG=0 the service serves static files through whitenoise's
CompressedManifestStaticFilesStorage: pages link to hashed names (connect.3f2a….css) that only
its manifest, written by collectstatic under that same storage, can resolve. Built under
DEBUG=1 (a plain storage, no manifest), every page that links a stylesheet answers 500 at run
time. So the build runs with DEBUG=0; and since the settings refuse to load with DEBUG=0
without a SECRET_KEY, ENCRYPTION_KEYS and a real INTEGRATOR_API_TOKEN, it gives them
placeholder values that exist only in this process. Nothing is signed, no database is opened
and nothing is called while collecting; the image's real values come from its run-time
environment. The test suite builds with this same script (tests/config/test_static_files.py),
so the two cannot drift.
"""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

BUILD_ONLY_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "0",
    "SECRET_KEY": "build-only-placeholder-for-collectstatic-never-used-at-run-time",
    "INTEGRATOR_API_TOKEN": "build-only-placeholder",
    # 32 zero bytes: nothing is encrypted while collecting.
    "ENCRYPTION_KEYS": "build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "DATABASE_URL": "sqlite:///:memory:",
    # Never a developer's .env.
    "ENV_FILE": "",
}


def main() -> None:
    os.environ.update(BUILD_ONLY_ENV)
    sys.path.insert(0, str(REPO_ROOT))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=1)


if __name__ == "__main__":
    main()

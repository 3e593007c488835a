"""What a process checks before it serves, and how a configuration error reaches a person.

A setting that is missing or wrong raises ImproperlyConfigured, while the settings load
(config/settings.py) or in the checks below. Left alone, that is fifty lines of traceback whose
last line is the one sentence an operator needs; `exit_on_misconfiguration` prints that
sentence alone (`error: ...` on stderr) and exits with status 78. manage.py, gunicorn's master
(config/gunicorn_conf.py), the Celery worker and beat (config/celery.py) go through it.

78 is EX_CONFIG (sysexits.h), not 1: a restarter must tell a setting to fix from a crash.
Started again, the process fails the same way, for ever: `make run`'s scripts/respawn.py does
not restart it, and the systemd units (README) say `RestartPreventExitStatus=78`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured

# sysexits.h's "configuration error" (os.EX_CONFIG, which exists only on Unix).
EX_CONFIG = 78


@contextmanager
def exit_on_misconfiguration() -> Iterator[None]:
    try:
        yield
    except ImproperlyConfigured as error:
        # To the process's real stderr: Celery beat has put a logger in sys.stderr's place by
        # then, which would turn the line into a WARNING record among the others.
        print(f"error: {error}", file=sys.__stderr__ or sys.stderr, flush=True)
        # SystemExit, not an exception: Celery's signal dispatch logs and swallows an
        # exception of a handler (the worker would start anyway), but lets SystemExit through.
        raise SystemExit(EX_CONFIG) from None


def static_files_verify() -> None:
    """With DEBUG=0, pages link to hashed file names that only the manifest written by
    `scripts/build_static.py` resolves: without it every page with a stylesheet (the admin,
    the API docs, the forms) answers 500. Say so at start-up instead."""
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    if manifest_name is None:  # DEBUG=1: files are served from the source folders
        return
    if not staticfiles_storage.exists(manifest_name):
        raise ImproperlyConfigured(
            f"The static files are not built: STATIC_ROOT ({settings.STATIC_ROOT}) has no "
            f"{manifest_name}, and with DEBUG=0 every page with a stylesheet would answer 500. "
            "Run `python scripts/build_static.py` with the same STATIC_ROOT before starting "
            "the web process (the Docker image does it when it is built)."
        )


def request_limits_verify(worker_timeout: int) -> None:
    """gunicorn kills a worker whose request outlasts its `--timeout` (0: never), with no
    answer to the caller. A request waiting on integrator.io answers 503 with Retry-After once
    INTEGRATOR_REQUEST_BUDGET_SECONDS is spent, and an admin action on a selection stops
    starting objects once ADMIN_ACTION_SECONDS have passed and names those it did not reach:
    only limits under the timeout ever answer."""
    from django.conf import settings

    if not worker_timeout:
        return
    limits = (
        (
            "INTEGRATOR_REQUEST_BUDGET_SECONDS",
            "a request still waiting on integrator.io",
            "the budget answers 503",
        ),
        (
            "ADMIN_ACTION_SECONDS",
            "an admin action on a selection",
            "the action names what it did not reach",
        ),
    )
    for name, request, answer in limits:
        seconds = getattr(settings, name)
        if seconds >= worker_timeout:
            raise ImproperlyConfigured(
                f"{name} ({seconds:g} s) must be under gunicorn's --timeout ({worker_timeout} s): "
                f"gunicorn would kill {request}, with no answer, before {answer}. Lower {name} "
                "or raise --timeout (0: no timeout)."
            )


def web_verify() -> None:
    """What the web process refuses to start without (after Django is set up)."""
    from core.accounts import account_tokens_verify

    static_files_verify()
    account_tokens_verify()


def web_verify_or_exit() -> None:
    """`web_verify` for config/wsgi.py: a failure is the one sentence and exit status 78.

    `runserver` (what `make run` serves with) loads the application in a thread of its own,
    where an exception is a traceback and SystemExit ends only that thread: the autoreloader
    would then wait for a file to change, a process alive and serving nothing. There the
    whole process exits, so that runserver, and `make run`, stop with the sentence last."""
    try:
        with exit_on_misconfiguration():
            web_verify()
    except SystemExit as stop:
        if threading.current_thread() is not threading.main_thread():
            os._exit(stop.code if isinstance(stop.code, int) else EX_CONFIG)
        raise

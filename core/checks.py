"""System checks of core: `manage.py migrate` and `manage.py check --database default` stop
(as the web process, the worker and beat do: config.wsgi, config.celery) when a stored
integrator.io account token cannot be read with ENCRYPTION_KEYS. A database check: the
checks without a database (Celery's start-up, `check` alone) never query it.

It raises ImproperlyConfigured rather than returning a check Error: that is the configuration
error the other processes report, and manage.py tells it the same way (config/startup.py),
one line and exit status 78 (EX_CONFIG). As an Error it was Django's SystemCheckError block
and status 1, which a deploy script or a restarter could not tell from a failed migration."""

from django.core import checks


@checks.register(checks.Tags.database)
def account_tokens_check(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    if not databases:  # as Django's own database checks: only when asked for a database
        return []
    from core.accounts import account_tokens_verify

    account_tokens_verify()  # ImproperlyConfigured, with what to do
    return []

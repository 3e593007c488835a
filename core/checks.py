"""System checks of core: `manage.py migrate` and `manage.py check --database default` stop
(as the web process, the worker and beat do: config.wsgi, config.celery) when a stored
integrator.io account token cannot be read with ENCRYPTION_KEYS. A database check: the
checks without a database (Celery's start-up, `check` alone) never query it."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.database)
def account_tokens_check(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    if not databases:  # as Django's own database checks: only when asked for a database
        return []
    from core.accounts import account_tokens_verify

    try:
        account_tokens_verify()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="core.E001")]
    return []

"""System checks of core: `manage.py check`, `runserver` and `migrate` stop (as gunicorn,
the worker and beat do: config.wsgi, config.celery) when a stored integrator.io account token
cannot be read with ENCRYPTION_KEYS."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def account_tokens_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from core.accounts import account_tokens_verify

    try:
        account_tokens_verify()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="core.E001")]
    return []

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# A stored integrator.io account token that ENCRYPTION_KEYS does not open stops the web
# process here, with the reason, rather than failing every call to that account later.
from core.accounts import account_tokens_verify  # noqa: E402

account_tokens_verify()

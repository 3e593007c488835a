import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Unbuilt static files, or a stored integrator.io account token that ENCRYPTION_KEYS does not
# open, stop the web process here, with the reason in one line, rather than failing requests
# later. (gunicorn's master checks the same before it starts a worker: config/gunicorn_conf.py.)
from config.startup import web_verify_or_exit  # noqa: E402

web_verify_or_exit()

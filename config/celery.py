"""The Celery application.

Its configuration lives in Django settings under the ``CELERY_`` prefix (see
``config/settings.py``), so that one environment drives the web process, the worker and beat.
"""

import os

from celery import Celery

from config.redis_channel_close import redis_channel_close_patch

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Without it, losing Redis while tasks are held stops the worker (see the module).
redis_channel_close_patch()

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

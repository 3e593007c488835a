"""The Celery application.

Its configuration lives in Django settings under the ``CELERY_`` prefix (see
``config/settings.py``), so that one environment drives the web process, the worker and beat.

Every broker connection this app opens puts its keys (queues, unacknowledged messages,
bindings) under the deployment's Redis namespace (``core.namespace``): deployments that share a
Redis database never take each other's tasks. The namespace comes from the database, so it is
resolved when the first connection is made, not when settings load.
"""

import os
import warnings

from celery import Celery, signals
from celery.exceptions import CPendingDeprecationWarning

from config.redis_channel_close import redis_channel_close_patch
from config.startup import exit_on_misconfiguration

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Without it, losing Redis while tasks are held stops the worker (see the module).
redis_channel_close_patch()


class DeploymentCelery(Celery):
    def _load_config(self):
        # The first read of the configuration loads Django's settings: a missing or wrong
        # setting is told in one sentence, not a traceback (config/startup.py).
        with exit_on_misconfiguration():
            return super()._load_config()

    def _connection(self, url, transport_options=None, **kwargs):
        from core.namespace import redis_namespace

        options = {**(transport_options or {}), "global_keyprefix": redis_namespace()}
        return super()._connection(url, transport_options=options, **kwargs)


app = DeploymentCelery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _account_tokens_verify(**kwargs) -> None:
    """A stored integrator.io token that ENCRYPTION_KEYS does not open stops the worker and
    beat at start-up, with the reason (core.accounts.account_tokens_verify). As SystemExit:
    Celery logs an exception of a signal handler and starts anyway."""
    from core.accounts import account_tokens_verify

    with exit_on_misconfiguration():
        account_tokens_verify()


@signals.worker_ready.connect
def _worker_metrics(**kwargs) -> None:
    # A heartbeat for the "workers absent" alert, and METRICS_WORKER_PORT (config/metrics.py).
    from config.metrics import worker_metrics_start

    worker_metrics_start()


@signals.worker_ready.connect
def _connection_loss_notice_off(**kwargs) -> None:
    """Celery 5 warns at every loss of the broker's connection (nine lines, through the log's
    py.warnings) that 6.0 will cancel the running tasks then. This service keeps them running
    on purpose (README, "When Redis goes away": the worker finishes the tasks it was running),
    so the notice only buries the outage's own lines. Filtered here, once the worker's logging
    is set up: Celery sets its deprecation warnings to "always" as it sets logging up."""
    warnings.filterwarnings(
        "ignore",
        message=r"\s*In Celery 5\.1 we introduced an optional breaking change",
        category=CPendingDeprecationWarning,
    )


@signals.worker_process_shutdown.connect
def _worker_process_gone(**kwargs) -> None:
    # A prefork child's live gauges must not outlive it (prometheus_client multiprocess mode).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())

"""Settings of bench/provision.py: the service's production settings (DEBUG=0), with the
broker's Redis keys under a prefix of the run so that the bench shares Redis with nobody."""

import os

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"bench-{os.environ['BENCH_RUN_ID']}:",
}
# Celery's Django fixup closes every database connection after each task unless this is
# set; reconnecting cost ~10% of the worker's CPU here. Recommended for the service too.
CELERY_DB_REUSE_MAX = 1000

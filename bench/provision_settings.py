"""Settings of bench/provision.py: the service's production settings (DEBUG=0), with the
broker's Redis keys under a prefix of the run so that the bench shares Redis with nobody."""

import os

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"bench-{os.environ['BENCH_RUN_ID']}:",
}

"""Settings of bench/sync.py: the service's production settings (DEBUG=0), with every Redis
key under a prefix of the run so that the bench shares Redis with nobody."""

import os

from config.settings import *  # noqa: F403

REDIS_KEY_PREFIX = f"bench-{os.environ['BENCH_RUN_ID']}:"

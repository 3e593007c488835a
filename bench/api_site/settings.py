from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_site.urls"

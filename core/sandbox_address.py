"""Where the sandbox's demo apps are, as a browser or the sandbox itself reaches them.

Development only: demo templates and the forms' help texts name the sandbox as
`{sandbox_url}`, filled with this (so that `make run` on any port works).
"""

import re

from django.conf import settings

# How a demo template file names the sandbox's address.
SANDBOX_URL = "{sandbox_url}"


def sandbox_public_url() -> str:
    """SANDBOX_PUBLIC_URL, or else the sandbox's own address: INTEGRATOR_API_URL without its
    `/v1`."""
    if settings.SANDBOX_PUBLIC_URL:
        return settings.SANDBOX_PUBLIC_URL.rstrip("/")
    return re.sub(r"/v1/?$", "", settings.INTEGRATOR_API_URL.rstrip("/"))

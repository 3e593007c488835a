"""Where the sandbox's demo apps are, as a browser or the sandbox itself reaches them.

Development only: demo templates and the forms' help texts name the sandbox as
`{sandbox_url}`, filled with this (so that `make run` on any port works) wherever a template's
texts are shown: the credential form and the API's description of a template.
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


def sandbox_url_fill(text: str) -> str:
    """`text` with each `{sandbox_url}` replaced by the sandbox's address (a text without one,
    as every real template's, is returned as it is)."""
    if SANDBOX_URL not in text:
        return text
    return text.replace(SANDBOX_URL, sandbox_public_url())

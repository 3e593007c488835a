"""Going through an OAuth slot with Django's test client: the form's Connect link, the start
view, the demo CRM's consent (over HTTP), and the callback. Each `Client` is one browser, with
its own cookies (the start view's browser binding)."""

import html
import re
from urllib.parse import urlsplit

from django.test import Client

from tests.fixtures.crm_oauth import consent

POPUP_URL = re.compile(r'data-popup-url="([^"]+)"')


def connect_start_url(browser: Client, link_path: str) -> str:
    page = browser.get(link_path + "?edit=crm")  # a connected slot shows it when edited
    assert page.status_code == 200
    return html.unescape(POPUP_URL.search(page.content.decode()).group(1))


def start_consent(browser: Client, link_path: str) -> str:
    """Click "Connect with CRM": the app's consent URL the start view redirects to."""
    started = browser.get(connect_start_url(browser, link_path))
    assert started.status_code == 302, started.content
    return started["Location"]


def callback_path(provider_redirect: str) -> str:
    """Where the app sends the browser back to, as a path for the test client."""
    parts = urlsplit(provider_redirect)
    return f"{parts.path}?{parts.query}"


def connect_by_consent(browser: Client, link_path: str, *, decision: str = "approve"):
    """The whole round trip; the callback's response."""
    back = consent(start_consent(browser, link_path), decision=decision)
    return browser.get(callback_path(back))

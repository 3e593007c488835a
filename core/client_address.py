"""The address of the person behind a request, for per-address bounds (admin sign-in).

Behind a TLS-terminating proxy, REMOTE_ADDR is the proxy's own address: every person would
share it, and a bound per address would hold up everyone at once. Each proxy appends the
address it received the request from to X-Forwarded-For, so with TRUSTED_PROXY_HOPS proxies
in front, the client's address is that many entries from the end. Entries further left were
written by the client itself and prove nothing, so they are never read; with no proxy
declared (0, the default), the header is ignored altogether and cannot be spoofed.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR") or ""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops < 1:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < hops:
        return remote  # not through as many proxies as declared: nothing to trust
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote

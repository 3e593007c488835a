"""The connection pool the transport sends with: urllib3, without `requests` on top.

`requests` costs about a third more CPU per call than the urllib3 pool under it (session and
header merging, cookie handling, hooks, its own response object), and provisioning makes six
calls a job, so on a busy machine that CPU is throughput (docs/performance.md). The transport
needs none of what `requests` adds: it sets its own headers, refuses cookies, follows no
redirects and makes every retry decision itself.

What `requests` did read from the environment, this module reads when `trust_env` is set
(INTEGRATOR_TRUST_ENV=1, for a deployment behind an egress proxy), once per pool, since a
transport talks to one base URL:
- the proxy from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (lower case too), unless
  `NO_PROXY` names the API's host; user and password in the proxy URL become its
  Proxy-Authorization;
- the CA bundle from `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE`.
Otherwise certificates are checked against certifi's bundle, as `requests` does, and no
proxy is used.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import certifi
import urllib3

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def proxy_for(base_url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy URL the environment names for `base_url`, or None (none, or NO_PROXY)."""
    proxies = _environment_proxies(os.environ if environ is None else environ)
    parts = urlsplit(base_url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    if urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    # "proxy.internal:3128" means an HTTP proxy, as it does to requests and curl.
    return proxy if "://" in proxy else f"http://{proxy}"


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    # urllib.request.getproxies_environment reads os.environ only; the same rules here
    # (lower case wins over upper case, empty values ignored) so that tests can pass their own.
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        lower = name.lower()
        if value and lower.endswith("_proxy"):
            proxies[lower[: -len("_proxy")]] = value
    for name, value in environ.items():
        if value and name.endswith("_proxy") and name.islower():
            proxies[name[: -len("_proxy")]] = value
    return proxies


def ca_bundle(*, trust_env: bool, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if trust_env:
        for name in CA_BUNDLE_VARIABLES:
            if environ.get(name):
                return environ[name]
    return certifi.where()


def build_pool(
    base_url: str,
    *,
    pool_maxsize: int,
    trust_env: bool,
    environ: Mapping[str, str] | None = None,
) -> urllib3.PoolManager:
    """A pool safe to share between the threads of one worker (urllib3's pools are).

    urllib3 must neither retry nor follow redirects by itself: every retry decision is the
    transport's, and a redirect would carry the token to wherever it points.
    """
    options = {
        "num_pools": 4,
        "maxsize": pool_maxsize,
        "retries": False,
        "ca_certs": ca_bundle(trust_env=trust_env, environ=environ),
    }
    proxy = proxy_for(base_url, environ) if trust_env else None
    if proxy is None:
        return urllib3.PoolManager(**options)
    return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers(proxy), **options)


def proxy_headers(proxy: str) -> dict[str, str] | None:
    """Proxy-Authorization from the user and password in the proxy's URL, which come
    percent-encoded there (a password with "@" or ":" is written "%40", "%3A")."""
    auth = urllib3.util.parse_url(proxy).auth
    if not auth:
        return None
    user, _, password = auth.partition(":")
    return urllib3.make_headers(proxy_basic_auth=f"{unquote(user)}:{unquote(password)}")

"""Requests the sandbox itself sends to a connection's target (ping, virtual export/import).

Only http and rest connections are reachable: the request goes to the connection's baseURI
plus a relative path, with its configured headers and auth (basic; token in a header, the
query or the body).
"""

import dataclasses

import aiohttp
from yarl import URL

from sandbox import assumptions

REACHABLE_TYPES = ("http", "rest")


@dataclasses.dataclass
class OutboundRequest:
    method: str
    url: URL
    headers: dict[str, str]
    auth: aiohttp.BasicAuth | None = None
    body: object = None


@dataclasses.dataclass(frozen=True)
class TargetAnswer:
    status: int
    reason: str
    text: str


class TargetUnreachable(Exception):
    """No HTTP answer; `code` is a Node-style network error code, as integrator.io reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def outbound_request(doc: dict, *, method: str, relative_uri: object, body: object = None):
    """The request to send for an http or rest connection. Raises TargetUnreachable for a
    baseURI or path that does not make an absolute http(s) URL."""
    kind = doc["type"]
    sub = doc[kind]
    try:
        url = _join(sub["baseURI"], relative_uri)
    except (ValueError, TypeError) as exc:
        code = assumptions.PING_NETWORK_ERROR_CODES["invalid_url"]
        raise TargetUnreachable(code, f"Invalid baseURI or path: {exc}") from None
    request = OutboundRequest(
        method=str(method or "GET").upper(),
        url=url,
        headers=_configured_headers(sub.get("headers")),
        body=body,
    )
    if kind == "http":
        auth = sub.get("auth") or {}
        if auth.get("type") == "basic":
            request.auth = _basic(auth.get("basic"))
        elif auth.get("type") in ("token", "oauth"):
            # An OAuth 2 connection sends its access token like a token connection
            # (sandbox/models/oauth_refresh.py refreshes it).
            token = auth.get("token") or {}
            _place_token(
                request,
                str(token.get("token") or ""),
                location=token.get("location") or "header",
                header_name=token.get("headerName") or "Authorization",
                scheme=token.get("scheme", "Bearer"),
                param_name=token.get("paramName") or "access_token",
            )
    elif sub.get("authType") == "basic":
        request.auth = _basic(sub.get("basicAuth"))
    elif sub.get("authType") == "token":
        _place_token(
            request,
            str(sub.get("bearerToken") or ""),
            location=sub.get("tokenLocation") or "header",
            header_name=sub.get("authHeader") or "Authorization",
            scheme=sub.get("authScheme", "Bearer"),
            param_name=sub.get("tokenParam") or "access_token",
        )
    return request


async def send(
    session: aiohttp.ClientSession, request: OutboundRequest, *, timeout: float
) -> TargetAnswer:
    codes = assumptions.PING_NETWORK_ERROR_CODES
    kwargs: dict = {"headers": request.headers, "auth": request.auth}
    url = request.url
    if (url.user is not None or url.password is not None) and (
        request.auth is not None or any(k.lower() == "authorization" for k in request.headers)
    ):
        # Node's http client (integrator.io's) sends a URL's credentials as Basic auth unless
        # the request sets its own Authorization, which then wins; aiohttp refuses the pair.
        url = url.with_user(None)
    if request.body is not None and request.method not in ("GET", "HEAD"):
        kwargs["data" if isinstance(request.body, str) else "json"] = request.body
    where = f"{request.url.host}:{request.url.port}"
    try:
        async with session.request(
            request.method,
            url,
            timeout=aiohttp.ClientTimeout(total=timeout),
            **kwargs,
        ) as response:
            text = await response.text(errors="replace")
            return TargetAnswer(response.status, response.reason or "", text)
    except TimeoutError:
        raise TargetUnreachable(
            codes["timeout"], f"Timed out after {timeout:g}s calling {where}"
        ) from None
    except aiohttp.ClientConnectorDNSError:
        raise TargetUnreachable(codes["dns"], f"getaddrinfo ENOTFOUND {request.url.host}") from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, ConnectionRefusedError):
            raise TargetUnreachable(codes["refused"], f"connect ECONNREFUSED {where}") from None
        raise TargetUnreachable(codes["other"], f"Could not connect to {where}: {exc}") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise TargetUnreachable(codes["other"], f"Connection to {where} failed: {exc}") from None


def _basic(raw: object) -> aiohttp.BasicAuth:
    basic = raw if isinstance(raw, dict) else {}
    return aiohttp.BasicAuth(str(basic.get("username") or ""), str(basic.get("password") or ""))


def _place_token(
    request: OutboundRequest,
    token: str,
    *,
    location: str,
    header_name: str,
    scheme: str | None,
    param_name: str,
) -> None:
    if location == "url":
        request.url = request.url.update_query({param_name: token})
    elif location == "body":
        body = request.body if isinstance(request.body, dict) else {}
        request.body = {**body, param_name: token}
    else:
        use_scheme = scheme and str(scheme).lower() not in ("custom", "none")
        request.headers[header_name] = f"{scheme} {token}" if use_scheme else token


def _configured_headers(raw: object) -> dict[str, str]:
    headers = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and item.get("name"):
            headers[str(item["name"])] = str(item.get("value") or "")
    return headers


def _join(base: str, relative: object) -> URL:
    relative = "" if relative is None else str(relative)
    if relative.startswith(("http://", "https://")):
        url = URL(relative)
    elif relative:
        url = URL(str(base).rstrip("/") + "/" + relative.lstrip("/"))
    else:
        url = URL(str(base))
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{url} is not an absolute http(s) URL")
    return url

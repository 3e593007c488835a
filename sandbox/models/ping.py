"""Connection ping: a real HTTP request for http and rest connections, a rule for the others.

For http/rest the sandbox calls the connection's baseURI plus its ping path with the configured
auth and a short timeout; only a 2xx (and a matching successPath, when configured) is a success.
For other types, `connection_credential_problem` decides (a secret equal to "invalid" fails).
A failed ping of a saved connection sets it offline. The control plane can force the outcome of
a connection's next pings instead.
"""

import dataclasses
import json

import aiohttp

from sandbox import assumptions
from sandbox.exceptions import InvalidField
from sandbox.models.connection_rules import connection_credential_problem
from sandbox.models.documents import MISSING, get_path
from sandbox.models.flow_rules import flow_steps
from sandbox.models.oauth_refresh import OAuthRefreshFailed, send_authorized, uses_oauth
from sandbox.models.outbound import REACHABLE_TYPES, TargetUnreachable, outbound_request
from sandbox.models.store import Store

MAX_BODY_IN_MESSAGE = 200


@dataclasses.dataclass(frozen=True)
class PingResult:
    ok: bool
    code: int | str = 200
    message: str = ""


async def ping_connection(
    session: aiohttp.ClientSession, doc: dict, *, timeout: float, store: Store | None = None
) -> PingResult:
    """`store`: the saved connection's store, which keeps a refreshed OAuth access token."""
    kind = doc.get("type")
    if kind not in REACHABLE_TYPES:
        problem = connection_credential_problem(doc)
        return PingResult(ok=True) if problem is None else PingResult(False, 401, problem)
    sub = doc[kind]
    if kind == "http":
        ping = sub.get("ping") or {}
        method, relative, body = ping.get("method"), ping.get("relativeURI"), ping.get("body")
        checks = (ping.get("successPath"), ping.get("successValues"))
        fails = (ping.get("failPath"), ping.get("failValues"))
    else:
        method, relative, body = sub.get("pingMethod"), sub.get("pingRelativeURI"), None
        checks = (sub.get("pingSuccessPath"), sub.get("pingSuccessValues"))
        fails = (sub.get("pingFailurePath"), sub.get("pingFailureValues"))
    try:
        answer = await send_authorized(
            session,
            doc,
            lambda: outbound_request(
                doc,
                method=method or "GET",
                relative_uri=relative or assumptions.PING_DEFAULT_RELATIVE_URI,
                body=body,
            ),
            timeout=timeout,
            on_refreshed=store.changed if store is not None else None,
        )
    except TargetUnreachable as exc:
        return PingResult(False, exc.code, exc.message)
    except OAuthRefreshFailed as exc:
        return PingResult(False, exc.code, exc.message)
    if not 200 <= answer.status < 300:
        message = f"{answer.status} {answer.reason}: {answer.text[:MAX_BODY_IN_MESSAGE]}"
        return PingResult(False, answer.status, message)
    return _check_body(answer.status, answer.text, checks, fails)


def record_ping(store: Store, doc: dict, result: PingResult) -> None:
    """A failed ping sets the saved connection offline; a successful one brings it back."""
    if not result.ok:
        doc["offline"] = True
        store.changed()
    elif doc.get("offline") and assumptions.PING_SUCCESS_CLEARS_OFFLINE:
        doc["offline"] = False
        store.changed()


async def oauth_connections_check(
    session: aiohttp.ClientSession, store: Store, flow: dict, *, timeout: float
) -> None:
    """Before a run, each online OAuth 2 connection of the flow's steps is called (a ping)
    the way the run would call it: an expired access token is refreshed and kept; a grant that
    no longer refreshes sets the connection offline, so the run fails as integrator.io's does."""
    seen: set[str] = set()
    for kind, resource_id in flow_steps(flow):
        resource = store.get(f"{kind}s", resource_id) or {}
        connection = store.get("connections", resource.get("_connectionId") or "")
        if connection is None or connection["_id"] in seen or not uses_oauth(connection):
            continue
        seen.add(connection["_id"])
        if not connection.get("offline"):
            result = await ping_connection(session, connection, timeout=timeout, store=store)
            record_ping(store, connection, result)


def forced_ping_from_json(body: dict) -> dict:
    """A forced outcome of the control plane, {"ok", "code", "message", "times"}: the next pings
    of the connection answer that without calling the target (`times` null: until cleared)."""
    ok = body.get("ok")
    times = body.get("times")
    if not isinstance(ok, bool):
        raise InvalidField("ok must be a boolean.", field="ok")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise InvalidField("times must be a positive integer or null.", field="times")
    return {
        "ok": ok,
        "code": body.get("code", 200 if ok else 401),
        "message": str(body.get("message") or ("" if ok else "Forced ping failure.")),
        "times": times,
    }


def take_forced_ping(forced: dict[str, dict], connection_id: str) -> PingResult | None:
    """The forced outcome of this connection's next ping, used up once `times` runs out."""
    outcome = forced.get(connection_id)
    if outcome is None:
        return None
    if outcome.get("times") is not None:
        outcome["times"] -= 1
        if outcome["times"] <= 0:
            del forced[connection_id]
    return PingResult(outcome["ok"], outcome["code"], outcome["message"])


def _check_body(status: int, text: str, checks: tuple, fails: tuple) -> PingResult:
    (success_path, success_values), (fail_path, fail_values) = checks, fails
    if not success_path and not fail_path:
        return PingResult(ok=True)
    try:
        payload = json.loads(text)
    except ValueError:
        return PingResult(False, status, "Ping response is not JSON; cannot check its paths.")
    if fail_path:
        value = get_path(payload, fail_path)
        if value is not MISSING and (not fail_values or value in fail_values):
            return PingResult(False, status, f"Ping failed: {fail_path} is {value!r}.")
    if success_path:
        value = get_path(payload, success_path)
        if value is MISSING or (success_values and value not in success_values):
            return PingResult(
                False, status, f"Ping failed: {success_path} is {value!r}, not a success."
            )
    return PingResult(ok=True)

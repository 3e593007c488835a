"""Virtual export and import on a saved connection (nothing is stored).

`POST /connections/{id}/export/pages`: for http/rest connections the records really come from
the target (GET baseURI + the export's relativeURI, optionally under `resourcePath`); for other
types they are made up. They are served `pageSize` at a time with a signed `pagedExportState`:
the first answer carries page 1 and `pageIndex: 2` (the next page), as in the docs' sample.

`POST /connections/{id}/import`: each record is mapped (`mapping.fields`: extract/generate or
hardCodedValue) and, for http/rest connections, really sent to the target; the answer has one
{statusCode, id, _json} per record, with the target's status normalised to the extension
convention (200 ok, 401/403 auth, 422 data error).
"""

import hashlib
import hmac
import json
import math
import os
import time

import aiohttp

from sandbox.exceptions import InvalidField, VirtualExportFailed
from sandbox.models.documents import MISSING, get_path, require_object
from sandbox.models.object_ids import new_object_id
from sandbox.models.outbound import REACHABLE_TYPES, TargetUnreachable, outbound_request, send
from sandbox.models.timestamps import now_iso

DEFAULT_PAGE_SIZE = 20
_STATE_KEY = os.urandom(32)
STATE_FIELDS = ("searchId", "pageIndex", "pageSize", "totalPages", "totalRecords", "done")


async def export_page(
    session: aiohttp.ClientSession, connection: dict, body: object, *, timeout: float, made_up: int
) -> dict:
    body = require_object(body)
    export = require_object(body.get("export"), "export")
    state = body.get("pagedExportState")
    if state is not None:
        state = _verified(require_object(state, "pagedExportState"))
    page_size = export.get("pageSize") or (state or {}).get("pageSize") or DEFAULT_PAGE_SIZE
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        raise InvalidField("export.pageSize must be a positive integer.", field="pageSize")
    records = await _export_records(session, connection, export, timeout=timeout, made_up=made_up)
    page_index = state["pageIndex"] if state else 1
    total_pages = max(1, math.ceil(len(records) / page_size))
    page = records[(page_index - 1) * page_size : page_index * page_size]
    next_state = {
        "searchId": state["searchId"] if state else f"SANDBOX_{new_object_id()}",
        "pageIndex": page_index + 1,
        "pageSize": page_size,
        "totalPages": total_pages,
        "totalRecords": len(records),
        "done": page_index >= total_pages,
        "issuedAt": int(time.time()),
    }
    next_state["sig"] = _signature(next_state)
    return {"data": page, "dataURIs": [None] * len(page), "pagedExportState": next_state}


async def import_records(
    session: aiohttp.ClientSession, connection: dict, body: object, *, timeout: float
) -> list[dict]:
    body = require_object(body)
    spec = require_object(body.get("import"), "import")
    data = body.get("data")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidField("data must be an array of records.", field="data")
    fields = ((spec.get("mapping") or {}).get("fields")) or []
    results = []
    for record in data:
        mapped = _mapped(record, fields)
        if connection["type"] in REACHABLE_TYPES:
            results.append(await _send_record(session, connection, spec, mapped, timeout))
        else:
            record_id = new_object_id()
            now = now_iso()
            doc = {"_id": record_id, **mapped, "createdAt": now, "lastModified": now}
            results.append({"statusCode": 200, "id": record_id, "_json": doc})
    return results


async def _export_records(
    session: aiohttp.ClientSession, connection: dict, export: dict, *, timeout: float, made_up: int
) -> list:
    if connection["type"] not in REACHABLE_TYPES:
        return [{"id": number, "name": f"Record {number}"} for number in range(1, made_up + 1)]
    spec = export.get("http") or export.get("rest") or {}
    try:
        request = outbound_request(
            connection, method=spec.get("method") or "GET", relative_uri=spec.get("relativeURI")
        )
        answer = await send(session, request, timeout=timeout)
    except TargetUnreachable as exc:
        raise VirtualExportFailed(exc.message, code=exc.code) from None
    if not 200 <= answer.status < 300:
        raise VirtualExportFailed(f"{answer.status} {answer.reason}", code=answer.status)
    try:
        payload = json.loads(answer.text)
    except ValueError:
        raise VirtualExportFailed("The target did not answer JSON.", code=answer.status) from None
    resource_path = spec.get("resourcePath")
    if resource_path:
        payload = get_path(payload, resource_path)
    if payload is MISSING or payload is None:
        return []
    return payload if isinstance(payload, list) else [payload]


async def _send_record(session, connection: dict, spec: dict, record: dict, timeout: float):
    target = spec.get("http") or spec.get("rest") or {}
    relative, method = target.get("relativeURI"), target.get("method") or "POST"
    relative = relative[0] if isinstance(relative, list) and relative else relative
    method = method[0] if isinstance(method, list) and method else method
    try:
        request = outbound_request(connection, method=method, relative_uri=relative, body=record)
        answer = await send(session, request, timeout=timeout)
    except TargetUnreachable as exc:
        return {"statusCode": 503, "errors": [{"code": exc.code, "message": exc.message}]}
    try:
        payload = json.loads(answer.text)
    except ValueError:
        payload = answer.text
    record_id = payload.get("id", payload.get("_id")) if isinstance(payload, dict) else None
    return {"statusCode": _record_status(answer.status), "id": record_id, "_json": payload}


def _record_status(status: int) -> int:
    """The extension convention: 200 ok, 401/403 auth, 422 a data error; 5xx as they come."""
    if 200 <= status < 300:
        return 200
    if status in (401, 403) or status >= 500:
        return status
    return 422


def _mapped(record: dict, fields: list) -> dict:
    if not fields:
        return dict(record)
    result: dict = {}
    for field in fields:
        if not isinstance(field, dict) or not field.get("generate"):
            continue
        if "hardCodedValue" in field:
            value = field["hardCodedValue"]
        else:
            value = get_path(record, str(field.get("extract") or ""))
            if value is MISSING:
                continue
        target = result
        parts = str(field["generate"]).split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


def _signature(state: dict) -> str:
    signed = json.dumps([state.get(name) for name in STATE_FIELDS], separators=(",", ":"))
    return hmac.new(_STATE_KEY, signed.encode(), hashlib.sha256).hexdigest()


def _verified(state: dict) -> dict:
    if not hmac.compare_digest(str(state.get("sig", "")), _signature(state)):
        raise InvalidField(
            "pagedExportState must be sent back unchanged.", field="pagedExportState"
        )
    if state.get("done"):
        raise InvalidField("The export is done: there is no next page.", field="pagedExportState")
    return state

"""Two small target applications served under /_demo/, for the demo and for tests.

"shop" (an online store) and "erp" (a back office) each check an API key, answer a ping, and
serve a few records; "erp" also accepts new sales orders, customers and credit memos, "shop"
inventory. A list can be filtered by status (`?status=paid,processing`, what the 1.1.0 demo
template's orders export asks for). Their data lives in memory only.
The key may be sent as `Authorization: Bearer <key>`, as `X-Api-Key: <key>`, as the query
parameter `api_key`, or as the password of HTTP basic auth.
"""

import base64
import copy
import json

from aiohttp import web

from sandbox.web_keys import SANDBOX

# Demo values, not secrets: printed by `make run` and documented in sandbox/README.md.
DEMO_API_KEYS = {
    "shop": "demo-shop-key-not-a-secret",
    "erp": "demo-erp-key-not-a-secret",
}

SEED_RECORDS = {
    "shop": {
        "orders": [
            {
                "id": "SO-1001",
                "customerId": "C-1",
                "total": 129.90,
                "currency": "EUR",
                "status": "paid",
                "lines": [{"sku": "TEA-01", "qty": 3}],
            },
            {
                "id": "SO-1002",
                "customerId": "C-2",
                "total": 45.00,
                "currency": "EUR",
                "status": "paid",
                "lines": [{"sku": "MUG-02", "qty": 2}],
            },
            {
                "id": "SO-1003",
                "customerId": "C-1",
                "total": 18.50,
                "currency": "EUR",
                "status": "pending",
                "lines": [{"sku": "TEA-02", "qty": 1}],
            },
            {
                "id": "SO-1004",
                "customerId": "C-3",
                "total": 310.00,
                "currency": "EUR",
                "status": "paid",
                "lines": [{"sku": "KETTLE-01", "qty": 1}],
            },
        ],
        "customers": [
            {"id": "C-1", "name": "Ada Lovelace", "email": "ada@example.com"},
            {"id": "C-2", "name": "Alan Turing", "email": "alan@example.com"},
            {"id": "C-3", "name": "Grace Hopper", "email": "grace@example.com"},
        ],
        "inventory": [
            {"sku": "TEA-01", "available": 120},
            {"sku": "TEA-02", "available": 80},
            {"sku": "MUG-02", "available": 35},
            {"sku": "KETTLE-01", "available": 6},
        ],
        # Read by the 1.1.0 demo template's refunds flow.
        "refunds": [
            {
                "id": "RF-2001",
                "orderId": "SO-1001",
                "amount": 43.30,
                "currency": "EUR",
                "reason": "damaged",
            },
            {
                "id": "RF-2002",
                "orderId": "SO-1004",
                "amount": 310.00,
                "currency": "EUR",
                "reason": "returned",
            },
        ],
    },
    "erp": {
        "salesorders": [
            {"id": "ERP-SO-9001", "externalId": "SO-0999", "total": 99.00, "status": "billed"},
        ],
        "customers": [
            {"id": "ERP-C-1", "externalId": "C-1", "name": "Ada Lovelace"},
        ],
        # Written by the 1.1.0 demo template's refunds flow.
        "creditmemos": [
            {"id": "ERP-CM-7001", "externalId": "RF-1999", "amount": 12.00, "currency": "EUR"},
        ],
        "items": [
            {"sku": "TEA-01", "onHand": 118},
            {"sku": "TEA-02", "onHand": 80},
            {"sku": "MUG-02", "onHand": 40},
            {"sku": "KETTLE-01", "onHand": 5},
        ],
    },
}
WRITABLE = {
    ("erp", "salesorders"),
    ("erp", "customers"),
    ("erp", "creditmemos"),
    ("shop", "inventory"),
}


class DemoApps:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.records = copy.deepcopy(SEED_RECORDS)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_route("*", "/_demo/{app}/ping", demo_ping)
    router.add_get("/_demo/{app}/{collection}", demo_list)
    router.add_post("/_demo/{app}/{collection}", demo_create)
    router.add_get("/_demo/{app}/{collection}/{id}", demo_get)


async def demo_ping(request: web.Request) -> web.Response:
    app = _authorized_app(request)
    return _json({"ok": True, "app": app})


async def demo_list(request: web.Request) -> web.Response:
    records = _collection(request)
    statuses = request.query.get("status")
    if statuses:
        wanted = statuses.split(",")
        records = [record for record in records if record.get("status") in wanted]
    return _json(records)


async def demo_get(request: web.Request) -> web.Response:
    for record in _collection(request):
        if str(record.get("id", record.get("sku"))) == request.match_info["id"]:
            return _json(record)
    return _json({"error": "not_found", "message": "No such record."}, status=404)


async def demo_create(request: web.Request) -> web.Response:
    records = _collection(request)
    app, collection = request.match_info["app"], request.match_info["collection"]
    if (app, collection) not in WRITABLE:
        return _json({"error": "method_not_allowed"}, status=405)
    try:
        record = await request.json()
    except ValueError:
        return _json({"error": "invalid_json"}, status=400)
    if not isinstance(record, dict):
        return _json({"error": "invalid_record", "message": "Send one JSON object."}, status=422)
    record = {"id": f"{app.upper()}-{collection[:2].upper()}-{len(records) + 1}", **record}
    records.append(record)
    return _json(record, status=201)


def _collection(request: web.Request) -> list[dict]:
    app = _authorized_app(request)
    demo = request.app[SANDBOX].demo
    records = demo.records[app].get(request.match_info["collection"])
    if records is None:
        raise web.HTTPNotFound(
            text=json.dumps({"error": "not_found", "message": "No such collection."}),
            content_type="application/json",
        )
    return records


def _authorized_app(request: web.Request) -> str:
    app = request.match_info["app"]
    if app not in DEMO_API_KEYS:
        raise web.HTTPNotFound(
            text=json.dumps({"error": "not_found", "message": f"No demo app {app!r}."}),
            content_type="application/json",
        )
    if _presented_key(request) != DEMO_API_KEYS[app]:
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "unauthorized", "message": "Invalid or missing API key."}),
            content_type="application/json",
        )
    return app


def _presented_key(request: web.Request) -> str | None:
    if request.headers.get("X-Api-Key"):
        return request.headers["X-Api-Key"]
    if request.query.get("api_key"):
        return request.query["api_key"]
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except ValueError:
            return None
        return decoded.partition(":")[2]
    return None


def _json(data: object, *, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")

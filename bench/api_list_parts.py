"""Do the tenant list's hand-written parts pay for themselves?

The list (GET /api/v1/tenants) pages with its own keyset paginator
(`api.pagination.NewestFirstKeysetPagination`) rather than DRF's CursorPagination, and once
checked its query filters by hand rather than with a serializer (dropped: it saved 3%).
Each is measured here against the alternative, in one process, on PostgreSQL with 200
tenants, as a share of the whole list request measured in the same run (the ceiling):
  - filters:   a hand-written check (kept here only to measure) vs the serializer the API uses;
  - paginator: the keyset page (one SQL statement reading the page's views) vs DRF's
               CursorPagination over the tenants queryset followed by the same views read
               for the ids it chose (what a queryset paginator needs, as the views are raw SQL).
A hand-written part "pays" when the alternative would add at least 5% to a list request.

    .venv/bin/python bench/api_list_parts.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    REPO_ROOT,
    database_url,
    drop_database,
    production_env,
    recreate_database,
)

DB_NAME = "provisioning_bench_api_parts"
TENANTS = 200
PAYS = 0.05


def per_call_us(function, repeat: int) -> float:
    function()
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, (time.perf_counter() - started) / repeat)
    return best * 1e6


def run(repeat: int) -> None:
    from django.test import Client
    from django.test.client import RequestFactory
    from rest_framework import serializers
    from rest_framework.request import Request

    from api import tenant_status_view
    from api.pagination import NewestFirstCursorPagination, NewestFirstKeysetPagination
    from api.tenants import TenantListFilterInput
    from tenants.demo_seed import DEMO_TEMPLATE_FILE
    from tenants.models import Tenant, TenantStatus
    from tenants.services import template_document_read, template_load, tenant_create

    template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
    for n in range(TENANTS):
        tenant_create(
            external_id=f"customer-{n}",
            name=f"Customer {n}",
            template=template,
            settings={"store_id": f"store-{n}"},
        )
    key = _api_key()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    query = "?limit=10&status=awaiting_credentials&search=customer"
    response = client.get("/api/v1/tenants" + query)
    assert response.status_code == 200, response.content[:300]
    request_us = per_call_us(lambda: client.get("/api/v1/tenants" + query), repeat // 20)

    # --- filters
    params = RequestFactory().get("/api/v1/tenants" + query).GET

    def by_hand():
        errors = {}
        status = params.get("status")
        if status is not None and status not in TenantStatus.values:
            errors["status"] = ["Not a status."]
        text = {}
        for name, max_length in (("template", 64), ("search", 200)):
            text[name] = params.get(name, "").strip()
            if len(text[name]) > max_length:
                errors[name] = ["Too long."]
            elif "\x00" in text[name]:
                errors[name] = ["Null characters are not allowed."]
        if errors:
            raise serializers.ValidationError(errors)
        return status, text

    def by_serializer():
        data = TenantListFilterInput(data=params.dict())
        data.is_valid(raise_exception=True)
        return data.to_selector_filters()

    hand_us = per_call_us(by_hand, repeat)
    serializer_us = per_call_us(by_serializer, repeat)

    # --- paginator
    factory = RequestFactory()

    def keyset_page():
        request = Request(factory.get("/api/v1/tenants?limit=10"))
        paginator = NewestFirstKeysetPagination()
        page = paginator.page_request(request)
        rows = tenant_status_view.tenant_views_page(limit=page.fetch, after=page.after)
        return paginator.paginate_rows(rows)

    def queryset_page():
        request = Request(factory.get("/api/v1/tenants?limit=10"))
        paginator = NewestFirstCursorPagination()
        tenants = Tenant.objects.filter(superseded_at=None).only("id", "created_at")
        ids = [tenant.id for tenant in paginator.paginate_queryset(tenants, request)]
        # The same one-statement read, for the page the queryset chose.
        return tenant_status_view.tenant_views_page(limit=len(ids) + 1, after=None)

    keyset_us = per_call_us(keyset_page, repeat // 10)
    queryset_us = per_call_us(queryset_page, repeat // 10)

    print(f"list request (ceiling): {request_us:8.1f} us")
    for name, hand, drf in (
        ("filters", hand_us, serializer_us),
        ("paginator", keyset_us, queryset_us),
    ):
        share = (drf - hand) / request_us
        verdict = "pays" if share >= PAYS else "does not pay"
        print(
            f"{name:10s} hand-written {hand:7.1f} us, DRF's {drf:7.1f} us: DRF's adds "
            f"{share:+.1%} to a list request; the hand-written one {verdict}"
        )


def _api_key() -> str:
    from api.api_keys import api_key_create

    _, key = api_key_create(name="bench", scopes=["tenants:read"])
    return key


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    options = parser.parse_args()
    recreate_database(DB_NAME)
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **production_env(),
        "ALLOWED_HOSTS": "testserver",
        "INTEGRATOR_API_TOKEN": "bench-integrator-token",
        "DATABASE_URL": database_url(DB_NAME),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO_ROOT,
            env={**os.environ},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        import django

        django.setup()
        run(options.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The host app's API for what a tenant costs in integrator.io calls (/api/v1/).

Calls are counted per tenant, purpose and UTC day (tenants.call_costs) by every caller: jobs,
run sync, connection checks, the credential form, plan previews and drift checks.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.query import query_filters
from api.scopes import Scope
from api.tenant_serializers import IntegratorAccountRefOutput
from api.tenants import EXTERNAL_ID
from api.views import ApiView
from tenants.call_costs import RETENTION_DAYS
from tenants.models import CallPurpose
from tenants.selectors import tenant_call_costs, tenant_incarnation_get

_PURPOSES = ", ".join(CallPurpose.values)


class CostDayOutput(serializers.Serializer):
    day = serializers.DateField(help_text="A UTC day.")
    calls = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=f"Calls made that day, per purpose ({_PURPOSES}); purposes with none left out.",
    )
    total = serializers.IntegerField(help_text="Calls made that day, all purposes.")
    budget_share = serializers.FloatField(
        help_text="The day's calls as a share of the account's daily budget (0.01 is 1%)."
    )


class CostsOutput(serializers.Serializer):
    tenant = serializers.CharField(help_text="The tenant's external_id.")
    incarnation = serializers.IntegerField(
        help_text="The incarnation of the tenant whose calls these are (its `incarnation`)."
    )
    days = CostDayOutput(many=True, help_text="One entry per day, oldest first, today last.")
    totals = serializers.DictField(
        child=serializers.IntegerField(), help_text="Calls over the period, per purpose."
    )
    total = serializers.IntegerField(help_text="Calls over the period, all purposes.")
    # An earlier incarnation may have lived on another account (a customer moved to the
    # other region), of another rate limit: the budget is that incarnation's account's.
    integrator_account = IntegratorAccountRefOutput(
        help_text="The integrator.io account this incarnation lives on, whose daily budget "
        "the shares are of."
    )
    daily_budget = serializers.FloatField(
        help_text=(
            "Calls the tenant's integrator.io account may make in a day: its rate per second "
            "(else INTEGRATOR_RATE_LIMIT_PER_SECOND) x 86400."
        )
    )
    budget_share = serializers.FloatField(
        help_text="The period's calls as a share of the account's budget over the same days."
    )


class TenantCostsApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ}

    class Filters(serializers.Serializer):
        days = serializers.IntegerField(
            min_value=1,
            max_value=RETENTION_DAYS,
            required=False,
            default=7,
            help_text=f"UTC days ending today (1 to {RETENTION_DAYS}; counts are kept that long).",
        )
        incarnation = serializers.IntegerField(
            min_value=1,
            max_value=2**31 - 1,
            required=False,
            help_text="The calls of this incarnation of the tenant (its `incarnation`), an "
            "earlier one's included: a tenant deprovisioned and registered again keeps the "
            "earlier incarnation's counts as history. Left out: the current incarnation's.",
        )

    query_parameters = {"get": Filters}

    @extend_schema(
        operation_id="tenants_costs_retrieve",
        summary="A tenant's integrator.io calls",
        parameters=[EXTERNAL_ID, Filters],
        responses={
            200: CostsOutput,
            404: OpenApiResponse(
                description="`tenant_not_found`: no current tenant with this external_id, or "
                "none of the `incarnation` asked for."
            ),
        },
        tags=["tenants"],
    )
    def get(self, request, external_id: str):
        """The tenant's integrator.io calls per purpose and day, with their share of the
        account's daily call budget: what this customer costs. The current incarnation's
        calls, or an earlier one's with `incarnation`."""
        filters = query_filters(request, self.Filters)
        tenant = tenant_incarnation_get(
            external_id=external_id, incarnation=filters.get("incarnation")
        )
        costs = tenant_call_costs(tenant=tenant, days=filters.get("days", 7))
        return Response(
            CostsOutput(
                {
                    "tenant": tenant.external_id,
                    "incarnation": tenant.incarnation,
                    "days": costs.days,
                    "totals": costs.totals,
                    "total": costs.total,
                    "integrator_account": {
                        "key": tenant.account.key,
                        "region": tenant.account.region,
                    },
                    "daily_budget": costs.daily_budget,
                    "budget_share": costs.budget_share,
                }
            ).data
        )

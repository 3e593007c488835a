from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as service_urlpatterns
from tenants.models import Tenant


class BareTenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ("external_id", "name", "status", "integration_id", "created_at", "updated_at")


class BareTenantView(APIView):
    """The ceiling: a plain DRF view reading one row, no authentication."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request, external_id):
        return Response(BareTenantSerializer(Tenant.objects.get(external_id=external_id)).data)


class BareTenantListView(APIView):
    """A plain DRF list of the newest tenants, the page size the list endpoint is asked for."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        limit = int(request.query_params.get("limit", 10))
        tenants = Tenant.objects.order_by("-created_at", "-id")[:limit]
        return Response({"results": BareTenantSerializer(tenants, many=True).data})


urlpatterns = [
    path("bench/bare/<str:external_id>/", BareTenantView.as_view()),
    path("bench/bare-list/", BareTenantListView.as_view()),
    *service_urlpatterns,
]

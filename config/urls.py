from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views import ApiRootApi
from config import health
from config.metrics import metrics_view

urlpatterns = [
    # What this service is, and where its API reference, admin and probes are.
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus, with METRICS_TOKEN only (config/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The API's root, as the schema shows it (api.urls serves "/api/v1/" too).
    path("api/v1", ApiRootApi.as_view(), name="api-root"),
    path("api/v1/", include("api.urls")),
    path("connect/", include("connect.urls")),
]

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.cache import patch_cache_control
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularSwaggerView

from api.views import ApiRootApi, OpenApiDocumentApi, UnknownEndpointApi
from config import health
from config.metrics import metrics_view
from core.admin_login import LimitedAdminAuthenticationForm

schema_view = OpenApiDocumentApi.as_view()

# A request refused before any view (a Host missing from ALLOWED_HOSTS): JSON under /api.
handler400 = "api.views.bad_request"


def favicon(request):
    """Browsers ask every site for /favicon.ico: the icon among the static files (whose name
    carries its hash in production, so a redirect, and not a permanent one). The pages name it
    themselves (base.html, the admin's base_site.html); this is for everything else (the API's
    docs, a JSON page opened in a tab)."""
    response = HttpResponseRedirect(static("favicon.ico"))
    patch_cache_control(response, max_age=86400)
    return response


# The admin's lists of eight or nine columns (jobs, runs, deliveries, orphans) need the width of a
# 1280 px window: the model sidebar beside them took 300 px of it on every page. The index page
# and each page's breadcrumbs lead to every model.
admin.site.enable_nav_sidebar = False
# Sign-in failures are bounded per user name and address (core.login_limit).
admin.site.login_form = LimitedAdminAuthenticationForm

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    # What this service is, and where its API reference, admin and probes are.
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus, with METRICS_TOKEN only (config/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", schema_view, name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The API's root, as the schema shows it (api.urls serves "/api/v1/" too).
    path("api/v1", ApiRootApi.as_view(), name="api-root"),
    path("api/v1/", include("api.urls")),
    # The reference's pages without their slash too: the catch-all below would take them.
    path("api/schema", schema_view),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema")),
    # Anything else under /api (another version, a typo) is a client talking to the API:
    # it gets the API's JSON 404, not Django's HTML page.
    re_path(r"^api(?:/.*)?$", UnknownEndpointApi.as_view()),
    path("connect/", include("connect.urls")),
]

from api.routes import api_path
from tenants import apis

app_name = "tenants"

urlpatterns = [
    *api_path("templates", apis.TemplateListApi.as_view(), name="template-list"),
    *api_path("templates/<str:key>", apis.TemplateDetailApi.as_view(), name="template-detail"),
    *api_path("tenants", apis.TenantCollectionApi.as_view(), name="tenant-list"),
    *api_path("tenants/<str:external_id>", apis.TenantApi.as_view(), name="tenant-detail"),
    *api_path(
        "tenants/<str:external_id>/connect-links",
        apis.ConnectLinkCollectionApi.as_view(),
        name="tenant-connect-links",
    ),
    *api_path(
        "tenants/<str:external_id>/connect-links/<str:link_id>",
        apis.ConnectLinkApi.as_view(),
        name="tenant-connect-link",
    ),
    *api_path(
        "tenants/<str:external_id>/connections/<str:slot_key>",
        apis.TenantConnectionApi.as_view(),
        name="tenant-connection",
    ),
]

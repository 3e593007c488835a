from django.urls import path

from tenants import apis

app_name = "tenants"

urlpatterns = [
    path("templates/", apis.TemplateListApi.as_view(), name="template-list"),
    path("templates/<str:key>/", apis.TemplateDetailApi.as_view(), name="template-detail"),
    path("tenants/", apis.TenantCollectionApi.as_view(), name="tenant-list"),
    path("tenants/<str:external_id>/", apis.TenantApi.as_view(), name="tenant-detail"),
    path(
        "tenants/<str:external_id>/connect-links",
        apis.ConnectLinkCreateApi.as_view(),
        name="tenant-connect-links",
    ),
    path(
        "tenants/<str:external_id>/connections/<str:slot_key>",
        apis.TenantConnectionApi.as_view(),
        name="tenant-connection",
    ),
]

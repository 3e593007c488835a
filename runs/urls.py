from django.urls import path

from runs import apis

app_name = "runs"

urlpatterns = [
    path("tenants/<str:external_id>/runs/", apis.TenantRunListApi.as_view(), name="run-list"),
    path(
        "tenants/<str:external_id>/runs/<str:job_id>/errors",
        apis.TenantRunErrorsApi.as_view(),
        name="run-errors",
    ),
    path("tenants/<str:external_id>/health", apis.TenantHealthApi.as_view(), name="health"),
    path("tenants/<str:external_id>/flows/", apis.TenantFlowListApi.as_view(), name="flow-list"),
    path(
        "tenants/<str:external_id>/flows/<str:flow_id>/run",
        apis.TenantFlowRunApi.as_view(),
        name="flow-run",
    ),
]

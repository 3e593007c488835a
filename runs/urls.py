from api.routes import api_path
from runs import apis

app_name = "runs"

urlpatterns = [
    *api_path("tenants/<str:external_id>/runs", apis.TenantRunListApi.as_view(), name="run-list"),
    *api_path(
        "tenants/<str:external_id>/runs/<str:run_id>/errors",
        apis.TenantRunErrorsApi.as_view(),
        name="run-errors",
    ),
    *api_path("tenants/<str:external_id>/health", apis.TenantHealthApi.as_view(), name="health"),
    *api_path(
        "tenants/<str:external_id>/flows", apis.TenantFlowListApi.as_view(), name="flow-list"
    ),
    *api_path(
        "tenants/<str:external_id>/flows/<str:flow_id>/run",
        apis.TenantFlowRunApi.as_view(),
        name="flow-run",
    ),
]

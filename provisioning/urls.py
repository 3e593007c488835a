"""Mounted under /api/v1/ (config/urls.py), before the API's catch-all for unknown paths."""

from api.routes import api_path
from provisioning import apis

app_name = "provisioning"

urlpatterns = [
    *api_path(
        "tenants/<str:external_id>/provision",
        apis.TenantProvisionApi.as_view(),
        name="tenant-provision",
    ),
    *api_path(
        "tenants/<str:external_id>/repair", apis.TenantRepairApi.as_view(), name="tenant-repair"
    ),
    *api_path(
        "tenants/<str:external_id>/jobs", apis.TenantJobListApi.as_view(), name="tenant-jobs"
    ),
    *api_path("jobs/<str:job_id>", apis.JobApi.as_view(), name="job-detail"),
    *api_path("jobs/<str:job_id>/retry", apis.JobRetryApi.as_view(), name="job-retry"),
    *api_path("jobs/<str:job_id>/cancel", apis.JobCancelApi.as_view(), name="job-cancel"),
    *api_path("orphans", apis.OrphanListApi.as_view(), name="orphan-list"),
    *api_path("orphans/<str:orphan_id>", apis.OrphanApi.as_view(), name="orphan-detail"),
    *api_path(
        "orphans/<str:orphan_id>/delete", apis.OrphanDeleteApi.as_view(), name="orphan-delete"
    ),
    *api_path("orphans/<str:orphan_id>/adopt", apis.OrphanAdoptApi.as_view(), name="orphan-adopt"),
]

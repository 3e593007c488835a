"""Mounted under /api/v1/ (config/urls.py), before the API's catch-all for unknown paths."""

from django.urls import path

from provisioning import apis

app_name = "provisioning"

urlpatterns = [
    path(
        "tenants/<str:external_id>/provision",
        apis.TenantProvisionApi.as_view(),
        name="tenant-provision",
    ),
    path("tenants/<str:external_id>/repair", apis.TenantRepairApi.as_view(), name="tenant-repair"),
    path("tenants/<str:external_id>/jobs/", apis.TenantJobListApi.as_view(), name="tenant-jobs"),
    path("jobs/<str:job_id>/", apis.JobApi.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/retry", apis.JobRetryApi.as_view(), name="job-retry"),
    path("jobs/<str:job_id>/cancel", apis.JobCancelApi.as_view(), name="job-cancel"),
    path("orphans/", apis.OrphanListApi.as_view(), name="orphan-list"),
    path("orphans/<str:orphan_id>/", apis.OrphanApi.as_view(), name="orphan-detail"),
    path("orphans/<str:orphan_id>/delete", apis.OrphanDeleteApi.as_view(), name="orphan-delete"),
    path("orphans/<str:orphan_id>/adopt", apis.OrphanAdoptApi.as_view(), name="orphan-adopt"),
]

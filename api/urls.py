"""Version 1 of the host app API (mounted at /api/v1/ by config/urls.py). Every path is
served with and without a trailing slash (api.routes); unknown paths answer 404 in the API's
error shape."""

from django.urls import path, re_path

from api import (
    audit,
    costs,
    jobs,
    orphans,
    plans,
    rollouts,
    runs,
    template_versions,
    tenants,
    webhooks,
)
from api.routes import api_path
from api.views import ApiRootApi, IntegratorAccountsApi, IntegratorStatusApi, UnknownEndpointApi

urlpatterns = [
    # The root without the slash ("/api/v1") is in config/urls.py, outside this prefix.
    path("", ApiRootApi.as_view()),
    # Templates and tenants
    *api_path("templates", tenants.TemplateListApi.as_view(), name="template-list"),
    *api_path("templates/<str:key>", tenants.TemplateDetailApi.as_view(), name="template-detail"),
    *api_path(
        "templates/<str:key>/versions",
        template_versions.TemplateVersionListApi.as_view(),
        name="template-versions",
    ),
    *api_path(
        "templates/<str:key>/versions/<str:version>",
        template_versions.TemplateVersionApi.as_view(),
        name="template-version",
    ),
    *api_path(
        "templates/<str:key>/versions/<str:a>/diff/<str:b>",
        template_versions.TemplateVersionDiffApi.as_view(),
        name="template-version-diff",
    ),
    *api_path(
        "templates/<str:key>/versions/<str:version>/retire",
        template_versions.TemplateVersionRetireApi.as_view(),
        name="template-version-retire",
    ),
    *api_path("tenants", tenants.TenantCollectionApi.as_view(), name="tenant-list"),
    *api_path("tenants/<str:external_id>", tenants.TenantApi.as_view(), name="tenant-detail"),
    *api_path(
        "tenants/<str:external_id>/costs", costs.TenantCostsApi.as_view(), name="tenant-costs"
    ),
    *api_path(
        "tenants/<str:external_id>/connect-links",
        tenants.ConnectLinkCollectionApi.as_view(),
        name="tenant-connect-links",
    ),
    *api_path(
        "tenants/<str:external_id>/connect-links/<str:link_id>",
        tenants.ConnectLinkApi.as_view(),
        name="tenant-connect-link",
    ),
    *api_path(
        "tenants/<str:external_id>/connections/<str:slot_key>",
        tenants.TenantConnectionApi.as_view(),
        name="tenant-connection",
    ),
    # Jobs
    *api_path(
        "tenants/<str:external_id>/provision",
        jobs.TenantProvisionApi.as_view(),
        name="tenant-provision",
    ),
    *api_path(
        "tenants/<str:external_id>/repair", jobs.TenantRepairApi.as_view(), name="tenant-repair"
    ),
    *api_path(
        "tenants/<str:external_id>/jobs", jobs.TenantJobListApi.as_view(), name="tenant-jobs"
    ),
    *api_path("tenants/<str:external_id>/plan", plans.TenantPlanApi.as_view(), name="tenant-plan"),
    *api_path(
        "tenants/<str:external_id>/drift", plans.TenantDriftApi.as_view(), name="tenant-drift"
    ),
    *api_path("jobs/<str:job_id>", jobs.JobApi.as_view(), name="job-detail"),
    *api_path("jobs/<str:job_id>/retry", jobs.JobRetryApi.as_view(), name="job-retry"),
    *api_path("jobs/<str:job_id>/cancel", jobs.JobCancelApi.as_view(), name="job-cancel"),
    # Runs, flows and health
    *api_path("tenants/<str:external_id>/runs", runs.TenantRunListApi.as_view(), name="run-list"),
    *api_path(
        "tenants/<str:external_id>/runs/<str:run_id>/errors",
        runs.TenantRunErrorsApi.as_view(),
        name="run-errors",
    ),
    *api_path(
        "tenants/<str:external_id>/runs/<str:run_id>/errors/resolve",
        runs.TenantRunErrorsResolveApi.as_view(),
        name="run-errors-resolve",
    ),
    *api_path(
        "tenants/<str:external_id>/runs/<str:run_id>/errors/retry",
        runs.TenantRunErrorsRetryApi.as_view(),
        name="run-errors-retry",
    ),
    *api_path("tenants/<str:external_id>/health", runs.TenantHealthApi.as_view(), name="health"),
    *api_path(
        "tenants/<str:external_id>/check-connections",
        runs.TenantConnectionsCheckApi.as_view(),
        name="tenant-check-connections",
    ),
    *api_path(
        "tenants/<str:external_id>/flows", runs.TenantFlowListApi.as_view(), name="flow-list"
    ),
    *api_path(
        "tenants/<str:external_id>/flows/<str:flow_id>/run",
        runs.TenantFlowRunApi.as_view(),
        name="flow-run",
    ),
    # Webhooks
    *api_path("webhooks/endpoints", webhooks.EndpointCollectionApi.as_view(), name="endpoint-list"),
    *api_path(
        "webhooks/endpoints/<str:endpoint_id>",
        webhooks.EndpointApi.as_view(),
        name="endpoint-detail",
    ),
    *api_path(
        "webhooks/endpoints/<str:endpoint_id>/rotate-secret",
        webhooks.EndpointSecretRotateApi.as_view(),
        name="endpoint-rotate-secret",
    ),
    *api_path(
        "webhooks/endpoints/<str:endpoint_id>/ping",
        webhooks.EndpointPingApi.as_view(),
        name="endpoint-ping",
    ),
    *api_path("webhooks/events", webhooks.EventListApi.as_view(), name="event-list"),
    *api_path("webhooks/events/<str:event_id>", webhooks.EventApi.as_view(), name="event-detail"),
    *api_path("webhooks/deliveries", webhooks.DeliveryListApi.as_view(), name="delivery-list"),
    *api_path(
        "webhooks/deliveries/<str:delivery_id>",
        webhooks.DeliveryApi.as_view(),
        name="delivery-detail",
    ),
    *api_path(
        "webhooks/deliveries/<str:delivery_id>/replay",
        webhooks.DeliveryReplayApi.as_view(),
        name="delivery-replay",
    ),
    # Orphans
    *api_path("integrator/status", IntegratorStatusApi.as_view(), name="integrator-status"),
    *api_path("integrator/accounts", IntegratorAccountsApi.as_view(), name="integrator-accounts"),
    *api_path("orphans", orphans.OrphanListApi.as_view(), name="orphan-list"),
    *api_path("orphans/<str:orphan_id>", orphans.OrphanApi.as_view(), name="orphan-detail"),
    *api_path(
        "orphans/<str:orphan_id>/delete", orphans.OrphanDeleteApi.as_view(), name="orphan-delete"
    ),
    *api_path(
        "orphans/<str:orphan_id>/adopt", orphans.OrphanAdoptApi.as_view(), name="orphan-adopt"
    ),
    # Rollouts, pins and one tenant's version
    *api_path(
        "templates/<str:key>/rollouts",
        rollouts.TemplateRolloutCollectionApi.as_view(),
        name="template-rollouts",
    ),
    *api_path("rollouts", rollouts.RolloutListApi.as_view(), name="rollout-list"),
    *api_path("rollouts/<str:rollout_id>", rollouts.RolloutApi.as_view(), name="rollout-detail"),
    *api_path(
        "rollouts/<str:rollout_id>/tenants",
        rollouts.RolloutTenantListApi.as_view(),
        name="rollout-tenants",
    ),
    *api_path(
        "rollouts/<str:rollout_id>/pause", rollouts.RolloutPauseApi.as_view(), name="rollout-pause"
    ),
    *api_path(
        "rollouts/<str:rollout_id>/resume",
        rollouts.RolloutResumeApi.as_view(),
        name="rollout-resume",
    ),
    *api_path(
        "rollouts/<str:rollout_id>/abort", rollouts.RolloutAbortApi.as_view(), name="rollout-abort"
    ),
    *api_path(
        "rollouts/<str:rollout_id>/rollback",
        rollouts.RolloutRollbackApi.as_view(),
        name="rollout-rollback",
    ),
    *api_path("tenants/<str:external_id>/pin", rollouts.TenantPinApi.as_view(), name="tenant-pin"),
    *api_path(
        "tenants/<str:external_id>/unpin", rollouts.TenantUnpinApi.as_view(), name="tenant-unpin"
    ),
    *api_path(
        "tenants/<str:external_id>/upgrade",
        rollouts.TenantUpgradeApi.as_view(),
        name="tenant-upgrade",
    ),
    # Audit log (read only)
    *api_path("audit-events", audit.AuditEventListApi.as_view(), name="audit-event-list"),
    *api_path("audit-events.csv", audit.AuditEventCsvApi.as_view(), name="audit-event-csv"),
    re_path(r"^.*$", UnknownEndpointApi.as_view(), name="api-unknown"),
]

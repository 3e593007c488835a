"""Every write to templates and tenants goes through these functions (keyword-only, typed).

The package is split by subject; import from `tenants.services`.
"""

from tenants.services.connections import (
    ConnectionSubmitResult,
    connection_fields_validate,
    slot_connection_body,
    tenant_connection_submit,
)
from tenants.services.settings import (
    deep_merge,
    merge_patch,
    schema_defaults,
    settings_effective,
    tenant_effective_settings,
)
from tenants.services.template_snapshots import (
    template_snapshot_from,
    template_snapshot_reads,
    template_snapshot_take,
)
from tenants.services.template_versions import template_version_open, template_version_retire
from tenants.services.templates import (
    template_account_check,
    template_document_read,
    template_document_validate,
    template_load,
    template_validate,
    template_version_current,
    template_version_order_check,
    translations_errors,
)
from tenants.services.tenants import (
    ALLOWED_TRANSITIONS,
    origins_normalize,
    tenant_changeable_check,
    tenant_create,
    tenant_deprovision,
    tenant_settings_checked,
    tenant_transition,
    tenant_update,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ConnectionSubmitResult",
    "connection_fields_validate",
    "deep_merge",
    "merge_patch",
    "origins_normalize",
    "schema_defaults",
    "settings_effective",
    "slot_connection_body",
    "template_account_check",
    "template_document_read",
    "template_document_validate",
    "template_load",
    "template_snapshot_from",
    "template_snapshot_reads",
    "template_snapshot_take",
    "template_validate",
    "template_version_current",
    "template_version_open",
    "template_version_order_check",
    "template_version_retire",
    "tenant_changeable_check",
    "tenant_connection_submit",
    "tenant_create",
    "tenant_deprovision",
    "tenant_effective_settings",
    "tenant_settings_checked",
    "tenant_transition",
    "tenant_update",
    "translations_errors",
]

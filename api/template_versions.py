"""The host app's API for a template's published versions (/api/v1/templates/{key}/versions).

A version is immutable: these views read versions, compare two, and retire one. What a
version holds beyond its schema is the snapshot of the template integration taken when it was
published; it is shown as ids and names only (a snapshot's documents stay in the service).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.scopes import Scope
from api.tenant_serializers import TemplateSlotOutput, datetime_output
from api.tenants import TEMPLATE_KEY, _path_parameter
from api.views import ApiView
from rollouts import services as rollout_services
from tenants import selectors
from tenants.models import TemplateVersion
from tenants.services.template_snapshots import secrets_masked, snapshot_counts
from tenants.version_diff import version_diff

VERSION = _path_parameter("version", "1.0.0", "A published version of the template.")
VERSION_FROM = _path_parameter("a", "1.0.0", "The version compared from.")
VERSION_TO = _path_parameter("b", "1.1.0", "The version compared to.")


class TemplateVersionOutput(serializers.Serializer):
    version = serializers.CharField()
    published_at = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(
        allow_null=True, help_text="Set once retired: no new tenants, no rollouts to it."
    )
    current = serializers.BooleanField(help_text="The version new tenants are built to.")
    digest = serializers.CharField(help_text="sha256 of the version's content.")
    tenants = serializers.IntegerField(
        help_text="Current tenants on this version: built to it, or to be built to it once "
        "their credentials work; not those deprovisioned."
    )
    has_snapshot = serializers.BooleanField(
        help_text="Whether the template integration was read when it was published; a version "
        "published offline cannot be rolled out to existing tenants."
    )
    flows = serializers.IntegerField(help_text="Flows in the snapshot (0 without one).")

    def to_representation(self, version):
        return {
            "version": version.version,
            "published_at": datetime_output(version.published_at),
            "retired_at": datetime_output(version.retired_at),
            "current": version.version == version.template.version,
            "digest": version.digest,
            "tenants": version.tenant_count,
            "has_snapshot": bool(version.snapshot),
            "flows": snapshot_counts(version.snapshot)["flows"],
        }


class SnapshotResourceOutput(serializers.Serializer):
    _id = serializers.CharField()
    name = serializers.CharField()
    connection_id = serializers.CharField(
        allow_null=True, required=False, help_text="Exports and imports: their connection."
    )
    steps = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Flows: the ids of their exports and imports, in order.",
    )


class SnapshotOutput(serializers.Serializer):
    integration_id = serializers.CharField()
    name = serializers.CharField()
    settings = serializers.DictField(help_text="The integration's settings; secrets masked.")
    taken_at = serializers.DateTimeField(help_text="When the snapshot was read from integrator.io.")
    flows = SnapshotResourceOutput(many=True)
    exports = SnapshotResourceOutput(many=True)
    imports = SnapshotResourceOutput(many=True)

    def to_representation(self, snapshot):
        integration = snapshot["integration"]
        return {
            "integration_id": integration.get("_id"),
            "name": integration.get("name", ""),
            "settings": secrets_masked(integration.get("settings") or {}),
            "taken_at": snapshot["taken_at"],
            "flows": [_flow_brief(flow) for flow in snapshot["flows"]],
            "exports": [_step_brief(step) for step in snapshot["exports"]],
            "imports": [_step_brief(step) for step in snapshot["imports"]],
        }


def _flow_brief(flow: dict) -> dict:
    steps = [g.get("_exportId") for g in flow.get("pageGenerators") or []]
    steps += [p.get("_importId") or p.get("_exportId") for p in flow.get("pageProcessors") or []]
    return {
        "_id": flow["_id"],
        "name": flow.get("name", ""),
        "steps": [step for step in steps if step],
    }


def _step_brief(step: dict) -> dict:
    return {
        "_id": step["_id"],
        "name": step.get("name", ""),
        "connection_id": step.get("_connectionId"),
    }


class TemplatePortalOutput(serializers.Serializer):
    settings = serializers.ListField(child=serializers.CharField())
    flows = serializers.ListField(child=serializers.CharField())


class TemplateVersionDetailOutput(TemplateVersionOutput):
    source_integration_id = serializers.CharField()
    slots = TemplateSlotOutput(many=True)
    settings_schema = serializers.DictField(
        help_text="A JSON Schema, the one settings are validated against; `default`s apply. A "
        "setting that sets the flows' schedule lists, as its `enum`, the intervals a schedule "
        "can say within its bounds."
    )
    settings_mapping = serializers.ListField(
        child=serializers.DictField(), help_text="Where each setting lands in the integration."
    )
    snapshot = SnapshotOutput(allow_null=True, help_text="Null when published offline.")
    portal = TemplatePortalOutput(
        help_text="What the customer may change on their integration page: these settings, "
        "and these flow switches (setting paths). Empty lists: nothing."
    )

    def to_representation(self, version):
        return {
            **super().to_representation(version),
            "source_integration_id": version.source_integration_id,
            "slots": [TemplateSlotOutput().to_representation(slot) for slot in version.slots],
            "settings_schema": selectors.version_settings_schema(version=version),
            "settings_mapping": version.settings_mapping,
            "portal": {
                "settings": list((version.portal or {}).get("settings") or []),
                "flows": list((version.portal or {}).get("flows") or []),
            },
            "snapshot": SnapshotOutput().to_representation(version.snapshot)
            if version.snapshot
            else None,
        }


class ResourceBriefOutput(serializers.Serializer):
    _id = serializers.CharField()
    name = serializers.CharField()


class ResourceChangeOutput(ResourceBriefOutput):
    fields = serializers.ListField(
        child=serializers.CharField(), help_text="Dotted paths of the fields that changed."
    )


class ResourcesDiffOutput(serializers.Serializer):
    added = ResourceBriefOutput(many=True)
    removed = ResourceBriefOutput(many=True)
    changed = ResourceChangeOutput(many=True)


class SchemaDiffOutput(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField())


class MappingDiffOutput(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField())
    removed = serializers.ListField(child=serializers.DictField())


class TemplateVersionDiffOutput(serializers.Serializer):
    template = serializers.SlugField()
    version_from = serializers.CharField()
    version_to = serializers.CharField()
    snapshots = serializers.BooleanField(
        help_text="Both versions have a snapshot: flows, exports and imports were compared "
        "(otherwise their lists are empty)."
    )
    flows = ResourcesDiffOutput()
    exports = ResourcesDiffOutput()
    imports = ResourcesDiffOutput()
    settings_schema = SchemaDiffOutput(help_text="Settings (dotted paths) added, removed, changed.")
    settings_mapping = MappingDiffOutput()


def _content(version: TemplateVersion) -> dict:
    return {
        "settings_schema": version.settings_schema,
        "settings_mapping": version.settings_mapping,
        "snapshot": version.snapshot,
    }


class TemplateVersionListApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}

    class TemplateVersionListOutput(serializers.Serializer):
        results = TemplateVersionOutput(many=True)

    @extend_schema(
        operation_id="templates_versions_list",
        summary="List a template's versions",
        parameters=[TEMPLATE_KEY],
        responses=TemplateVersionListOutput,
        tags=["templates"],
    )
    def get(self, request, key: str):
        """Every published version of the template, newest first, with its tenants."""
        template = selectors.template_get(key=key)
        versions = selectors.template_versions(template=template)
        return Response({"results": TemplateVersionOutput(versions, many=True).data})


class TemplateVersionApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}

    @extend_schema(
        operation_id="templates_versions_retrieve",
        summary="Retrieve a template version",
        parameters=[TEMPLATE_KEY, VERSION],
        responses=TemplateVersionDetailOutput,
        tags=["templates"],
    )
    def get(self, request, key: str, version: str):
        """One version: its slots, settings schema and mapping, and what the template
        integration held when it was published (flows, exports, imports by id and name)."""
        found = selectors.template_version_get(
            template=selectors.template_get(key=key), version=version
        )
        return Response(TemplateVersionDetailOutput(found).data)


class TemplateVersionDiffApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}

    @extend_schema(
        operation_id="templates_versions_diff",
        summary="Compare two template versions",
        parameters=[TEMPLATE_KEY, VERSION_FROM, VERSION_TO],
        responses=TemplateVersionDiffOutput,
        examples=[
            OpenApiExample(
                "1.0.0 to 1.1.0",
                response_only=True,
                value={
                    "template": "shop-to-erp",
                    "version_from": "1.0.0",
                    "version_to": "1.1.0",
                    "snapshots": True,
                    "flows": {
                        "added": [
                            {
                                "_id": "5eed00000000000000000f04",
                                "name": "Shop refunds to ERP credit memos",
                            }
                        ],
                        "removed": [],
                        "changed": [],
                    },
                    "exports": {
                        "added": [{"_id": "5eed00000000000000000e04", "name": "Get shop refunds"}],
                        "removed": [],
                        "changed": [
                            {
                                "_id": "5eed00000000000000000e01",
                                "name": "Get paid shop orders",
                                "fields": ["http.relativeURI"],
                            }
                        ],
                    },
                    "imports": {"added": [], "removed": [], "changed": []},
                    "settings_schema": {
                        "added": ["flows.refunds", "refund_lookback_days"],
                        "removed": [],
                        "changed": [],
                    },
                    "settings_mapping": {
                        "added": [
                            {
                                "setting": "flows.refunds",
                                "to": "integration_settings",
                                "path": "refundSync.enabled",
                            }
                        ],
                        "removed": [],
                    },
                },
            )
        ],
        tags=["templates"],
    )
    def get(self, request, key: str, a: str, b: str):
        """What changed from version `a` to version `b`: flows, exports and imports added,
        removed or changed (by id, with the paths of the changed fields), settings added,
        removed or changed, and mapping entries added or removed."""
        template = selectors.template_get(key=key)
        before = selectors.template_version_get(template=template, version=a)
        after = selectors.template_version_get(template=template, version=b)
        diff = version_diff(before=_content(before), after=_content(after))
        return Response(
            {"template": template.key, "version_from": a, "version_to": b, **diff},
        )


class TemplateVersionRetireApi(ApiView):
    required_scopes = {"post": Scope.TEMPLATES_MANAGE}
    body_handlers = frozenset()  # an action: the path says it all

    @extend_schema(
        operation_id="templates_versions_retire",
        summary="Retire a template version",
        parameters=[TEMPLATE_KEY, VERSION],
        request=None,
        responses={
            200: TemplateVersionOutput,
            409: OpenApiResponse(
                description="`template_version_current`: the version new tenants are built to "
                "(the newest) cannot be retired. `rollout_in_progress`: a rollout that may "
                "still queue a wave (running, paused or halted) moves tenants to it; abort it, "
                "or let it complete, first."
            ),
        },
        tags=["templates"],
    )
    def post(self, request, key: str, version: str):
        """Retire the version: it takes no new tenants and is no rollout target; tenants on it
        stay there until moved. Retiring a retired version changes nothing."""
        template = selectors.template_get(key=key)
        found = selectors.template_version_get(template=template, version=version)
        rollout_services.template_version_retire(version=found)
        retired = selectors.template_version_get(template=template, version=version)
        return Response(TemplateVersionOutput(retired).data)

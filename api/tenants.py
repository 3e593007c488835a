"""The host app's REST API for templates and tenants (/api/v1/).

One view per resource path; each HTTP method is one operation with its own small input
serializer, and calls one service or selector. A settings change, a delete and the last
working connection start provisioning jobs; their responses report the job.
"""

from datetime import timedelta

from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from api import tenant_status_view
from api.pagination import NewestFirstCursorPagination, NewestFirstKeysetPagination
from api.query import query_filters
from api.schema import INTEGRATOR_RESPONSES
from api.scopes import Scope
from api.serializers import HttpUrlField, InputSerializer, JsonObjectField, UniqueListField
from api.tenant_serializers import (
    JobSummaryOutput,
    TemplateOutput,
    TenantOutput,
    datetime_output,
    job_summary,
)
from api.views import ApiView
from core.models import IntegratorRegion
from provisioning.models import JobKind, JobOrigin
from provisioning.services import credentials_submit, job_request, tenant_settings_update
from tenants import connect_links, selectors, services
from tenants.errors import TemplateNotFound
from tenants.models import ConnectionStatus, TenantStatus

_external_id = RegexValidator(
    rf"^{selectors.EXTERNAL_ID_PATTERN}$",
    "Letters, digits and . _ : @ - only, starting with a letter or digit (at most 128).",
)
_origins = UniqueListField(
    child=serializers.CharField(max_length=300),
    max_length=20,
    required=False,
    help_text="The host app's origins that may embed the connect pages in an iframe "
    "(`https://app.example.com[:port]`, no path). Stored normalised: the scheme and host in "
    "lower case (an internationalised host in its punycode form), without the default port "
    "or a trailing slash. Two items that are the same origin once normalised "
    "(`https://App.example.com` and `https://app.example.com`) are refused, as an item given "
    "twice is.",
)

TENANT_EXAMPLE = {
    "external_id": "acme-42",
    "name": "Acme Ltd",
    "template": "shop-to-erp",
    "settings": {"store_id": "acme-eu", "sync_interval_minutes": 30},
    "allowed_origins": ["https://app.example.com"],
}


def _path_parameter(name: str, example: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        description=description,
        examples=[OpenApiExample(name, value=example)],
    )


EXTERNAL_ID = _path_parameter("external_id", "acme", "The host app's id of the tenant.")
SLOT_KEY = _path_parameter("slot_key", "shop", "A connection slot of the tenant's template.")
TEMPLATE_KEY = _path_parameter("key", "shop-to-erp", "A template key.")

_TEXT_FILTERS = {"template": 64, "account": 64, "search": 200}  # their longest values
LIST_FILTERS = [
    OpenApiParameter("status", str, enum=TenantStatus.values, description="Only this status."),
    OpenApiParameter(
        "template",
        {"type": "string", "maxLength": _TEXT_FILTERS["template"]},
        description="Only tenants of this template key.",
    ),
    OpenApiParameter(
        "account",
        {"type": "string", "maxLength": _TEXT_FILTERS["account"]},
        description="Only tenants on this integrator.io account (its key, as in "
        "`integrator_account.key` and GET /api/v1/integrator/accounts).",
    ),
    OpenApiParameter(
        "region",
        str,
        enum=IntegratorRegion.values,
        description="Only tenants on an integrator.io account of this region.",
    ),
    OpenApiParameter(
        "search",
        {"type": "string", "maxLength": _TEXT_FILTERS["search"]},
        description="Part of the external_id or name (spaces around it are ignored).",
    ),
]


# A region the host got wrong ("EU", its cloud's "eu-west-1") is answered with the regions
# there are, in the list's filter and at registration alike.
_REGION_ERRORS = {"invalid_choice": f"Not a region; one of {', '.join(IntegratorRegion.values)}."}


# A serializer, not a hand-written check: bench/api_list_parts.py measured the hand-written
# one saving 3% of a list request (41 us of 1.3 ms), not worth a second way to validate.
class TenantListFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=TenantStatus.values,
        required=False,
        error_messages={
            "invalid_choice": f"Not a status; one of {', '.join(TenantStatus.values)}."
        },
    )
    template = serializers.CharField(max_length=_TEXT_FILTERS["template"], required=False)
    account = serializers.CharField(max_length=_TEXT_FILTERS["account"], required=False)
    region = serializers.ChoiceField(
        choices=IntegratorRegion.values,
        required=False,
        error_messages=_REGION_ERRORS,
    )
    # Trimmed (as documented), so that spaces alone are an empty search, refused as `?search=`.
    search = serializers.CharField(max_length=_TEXT_FILTERS["search"], required=False)

    def to_selector_filters(self) -> dict:
        data = self.validated_data
        return {
            "status": data.get("status"),
            "template_key": data.get("template") or None,
            "account_key": data.get("account") or None,
            "region": data.get("region"),
            "search": data.get("search") or None,
        }


class TemplateListApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}

    class TemplateListOutput(serializers.Serializer):
        results = TemplateOutput(many=True)

    @extend_schema(
        operation_id="templates_list",
        summary="List templates",
        responses=TemplateListOutput,
        tags=["templates"],
    )
    def get(self, request):
        """Active integration templates, with their connection slots and settings schema."""
        templates = selectors.template_list()
        return Response({"results": TemplateOutput(templates, many=True).data})


@extend_schema_view(get=extend_schema(parameters=[TEMPLATE_KEY]))
class TemplateDetailApi(ApiView):
    required_scopes = {"get": Scope.TEMPLATES_READ}

    @extend_schema(
        operation_id="templates_retrieve",
        summary="Retrieve a template",
        responses=TemplateOutput,
        tags=["templates"],
    )
    def get(self, request, key: str):
        """One template: the fields a host app needs to render its own credential form."""
        return Response(TemplateOutput(selectors.template_get(key=key)).data)


class TenantCollectionApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ, "post": Scope.TENANTS_WRITE}
    pagination_class = NewestFirstKeysetPagination
    query_parameters = {"get": tuple(parameter.name for parameter in LIST_FILTERS)}

    class TenantCreateInput(InputSerializer):
        external_id = serializers.CharField(max_length=128, validators=[_external_id])
        name = serializers.CharField(max_length=200)
        template = serializers.CharField(max_length=64, help_text="A template key.")
        settings = JsonObjectField(
            required=False,
            help_text="Overrides of template defaults; null leaves a key at its default, as in "
            "an update (PATCH).",
        )
        allowed_origins = _origins
        region = serializers.ChoiceField(
            choices=IntegratorRegion.choices,
            required=False,
            error_messages=_REGION_ERRORS,
            help_text="The integrator.io region the tenant must live in (North America or "
            "Europe). A tenant is placed on its template's integrator.io account and stays "
            "there; when that account is in another region, the answer is 400 "
            "`region_unavailable` and nothing is registered.",
        )

        def validate_template(self, key):
            try:
                template = selectors.template_get(key=key)
            except TemplateNotFound:
                raise serializers.ValidationError("No template with this key.") from None
            if not template.is_active:
                raise serializers.ValidationError("This template takes no new tenants.")
            return template

    @extend_schema(
        operation_id="tenants_list",
        summary="List tenants",
        parameters=LIST_FILTERS,
        responses=TenantOutput(many=True),
        tags=["tenants"],
    )
    def get(self, request):
        """Tenants, newest first, a page at a time (follow `next`)."""
        # A plain dict: a QueryDict would let DRF skip an empty `status=` instead of refusing it.
        filters = TenantListFilterInput(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.page_request(request)
        views = tenant_status_view.tenant_views_page(
            **filters.to_selector_filters(), limit=page.fetch, after=page.after, before=page.before
        )
        views = paginator.paginate_rows(views)
        return paginator.get_paginated_response(TenantOutput(views, many=True).data)

    @extend_schema(
        operation_id="tenants_create",
        summary="Register a tenant",
        request=TenantCreateInput,
        responses={
            201: OpenApiResponse(TenantOutput, description="Created."),
            200: OpenApiResponse(TenantOutput, description="Already existed with these values."),
            409: OpenApiResponse(
                description="`tenant_exists`: the external_id exists with different values "
                "(`fields` names them; a different `template` is never changed: deprovision the "
                "tenant and register it again to move it to another template, account or "
                "region); `tenant_deprovisioning`: it is still being deprovisioned."
            ),
        },
        examples=[OpenApiExample("A tenant", value=TENANT_EXAMPLE, request_only=True)],
        tags=["tenants"],
    )
    def post(self, request):
        """Register a customer of the host app. Safe to repeat with the same body: `settings`
        and `allowed_origins` left out of it are not compared with the tenant's (the customer
        may have changed settings on the integration page since), `settings` given are
        compared as the settings they come to (a template default given explicitly, or a
        setting the customer set back to its default, is the same), and `allowed_origins` is
        compared as a set (the same origins in another order are the same body)."""
        data = self.TenantCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant, created = services.tenant_create(**data.validated_data)
        return Response(
            TenantOutput(tenant_status_view.tenant_view(external_id=tenant.external_id)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={
                "Location": reverse("tenant-detail", kwargs={"external_id": tenant.external_id})
            },
        )


@extend_schema_view(
    get=extend_schema(parameters=[EXTERNAL_ID]),
    patch=extend_schema(parameters=[EXTERNAL_ID]),
    delete=extend_schema(parameters=[EXTERNAL_ID]),
)
class TenantApi(ApiView):
    required_scopes = {
        "get": Scope.TENANTS_READ,
        "patch": Scope.TENANTS_WRITE,
        "delete": Scope.TENANTS_WRITE,
    }

    class TenantUpdateInput(InputSerializer):
        _moved = (
            "A tenant's template, and with it the integrator.io account and region its "
            "integration lives in, never changes. To move it, deprovision it (DELETE "
            "/api/v1/tenants/{external_id}) and, once it is deprovisioned, register it again "
            "with a template of the other account or region: a new incarnation, with new "
            "connections and integration."
        )
        fixed_fields = {"template": _moved, "region": _moved, "integrator_account": _moved}
        name = serializers.CharField(max_length=200, required=False)
        settings = JsonObjectField(
            required=False,
            help_text="A JSON Merge Patch (RFC 7386) of the overrides: keys not sent keep "
            "their value, null returns a key to the template default.",
        )
        allowed_origins = _origins

    class TenantUpdateOutput(TenantOutput):
        settings_changed = serializers.BooleanField()
        job = JobSummaryOutput(
            allow_null=True,
            help_text="The `update_settings` job that applies the change to the tenant's "
            "integration; null when the settings did not change or there is no integration "
            "yet (provisioning applies them as they are when it runs).",
        )

    class TenantDeleteOutput(TenantOutput):
        job = JobSummaryOutput(
            help_text="The `deprovision` job that removes the integration and its connections "
            "(the same job when asked again while it is unfinished); follow it at "
            "`GET /api/v1/jobs/{id}`."
        )

    @extend_schema(
        operation_id="tenants_retrieve",
        summary="Retrieve a tenant",
        responses=TenantOutput,
        tags=["tenants"],
    )
    def get(self, request, external_id: str):
        """Everything about one tenant: status, connection health, settings, jobs, errors."""
        return Response(TenantOutput(tenant_status_view.tenant_view(external_id=external_id)).data)

    @extend_schema(
        operation_id="tenants_partial_update",
        summary="Update a tenant",
        request=TenantUpdateInput,
        responses=TenantUpdateOutput,
        examples=[
            OpenApiExample(
                "Change one setting",
                value={"settings": {"sync_interval_minutes": 15}},
                request_only=True,
            )
        ],
        tags=["tenants"],
    )
    def patch(self, request, external_id: str):
        """Change name, settings (merged) or allowed origins."""
        tenant = selectors.tenant_get(external_id=external_id)
        data = self.TenantUpdateInput(
            data=request.data, context={"external_id": tenant.external_id}
        )
        data.is_valid(raise_exception=True)
        values = data.validated_data
        outcome = tenant_settings_update(
            tenant=tenant,
            requested_by=JobOrigin.API,
            name=values.get("name"),
            settings_patch=values.get("settings"),
            allowed_origins=values.get("allowed_origins"),
        )
        shown = TenantOutput(tenant_status_view.tenant_view(external_id=tenant.external_id)).data
        return Response(
            {
                **shown,
                "settings_changed": outcome.settings_changed,
                "job": _job_as_shown(outcome.job, shown),
            }
        )

    @extend_schema(
        operation_id="tenants_destroy",
        summary="Deprovision a tenant",
        request=None,
        responses={202: TenantDeleteOutput},
        tags=["tenants"],
    )
    def delete(self, request, external_id: str):
        """Start deprovisioning: the integration and its connections are removed."""
        tenant = selectors.tenant_get(external_id=external_id)
        job = job_request(tenant=tenant, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
        shown = TenantOutput(tenant_status_view.tenant_view(external_id=tenant.external_id)).data
        return Response(
            {**shown, "job": _job_as_shown(job, shown)},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("job-detail", kwargs={"job_id": job.pk})} if job else {},
        )


class ConnectLinkOutput(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(
        choices=connect_links.LINK_STATES,
        help_text="active: it opens the form; expired or revoked: it no longer does.",
    )
    slot = serializers.CharField(allow_null=True, help_text="The one slot it is for, if any.")
    return_url = HttpUrlField(allow_null=True)
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=connect_links.PORTAL_SECTIONS),
        allow_null=True,
        help_text="The sections of the customer's integration page it shows; null for a "
        "credential-form link.",
    )
    read_only = serializers.BooleanField()
    locale = serializers.CharField(
        allow_null=True, help_text="The language of its pages; null: the browser's."
    )

    def to_representation(self, link):
        return {
            "id": str(link.id),
            "state": connect_links.connect_link_state(link),
            "slot": link.slot_key or None,
            "sections": list(link.sections) or None,
            "read_only": link.read_only,
            "locale": link.locale or None,
            "return_url": link.return_url or None,
            "expires_at": datetime_output(link.expires_at),
            "revoked_at": datetime_output(link.revoked_at),
            "created_at": datetime_output(link.created_at),
        }


LINK_ID = _path_parameter(
    "link_id", "0b1d3c44-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "The link's id, as its creation returned."
)


@extend_schema_view(
    get=extend_schema(parameters=[EXTERNAL_ID]), post=extend_schema(parameters=[EXTERNAL_ID])
)
class ConnectLinkCollectionApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ, "post": Scope.TENANTS_WRITE}
    pagination_class = NewestFirstCursorPagination

    class ConnectLinkFilters(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=connect_links.LINK_STATES,
            required=False,
            error_messages={
                "invalid_choice": "Not a link state; one of "
                f"{', '.join(connect_links.LINK_STATES)}."
            },
        )

    query_parameters = {"get": ConnectLinkFilters}

    class ConnectLinkInput(InputSerializer):
        slot = serializers.CharField(max_length=64, required=False, help_text="One slot only.")
        return_url = HttpUrlField(
            required=False,
            help_text="Where the customer goes once done: when every connection works and "
            "the integration is set up, the form's status page shows a Continue button to "
            "this URL, opened in the whole window (out of an iframe). On one of the tenant's "
            "allowed_origins, checked again when the page is shown (a URL no longer on them "
            "shows no button). Left out: the page says the window may be closed.",
        )
        expires_in = serializers.IntegerField(
            min_value=int(connect_links.MIN_EXPIRES_IN.total_seconds()),
            max_value=int(connect_links.MAX_EXPIRES_IN.total_seconds()),
            required=False,
            help_text="Seconds; 1800 when not given.",
        )
        sections = UniqueListField(
            child=serializers.ChoiceField(choices=connect_links.PORTAL_SECTIONS),
            required=False,
            help_text="Makes the link open the customer's integration page (the portal) with "
            "these sections, in this order of the page: connections, settings, flows, runs. "
            "Left out: the credential form, as before.",
        )
        read_only = serializers.BooleanField(
            required=False,
            help_text="A portal link that shows but changes nothing (every change is refused).",
        )
        locale = serializers.CharField(
            max_length=16,
            required=False,
            help_text="The language of the link's pages, e.g. `en` or `de`; left out: the "
            "browser's.",
        )

    class ConnectLinkIssuedOutput(ConnectLinkOutput):
        url = serializers.URLField(
            help_text="The page's address (the form, or with `sections` the portal): send it "
            "or embed it."
        )
        token = serializers.CharField(
            help_text="The link's signed token (the end of `url`). Shown in this response only."
        )
        consent_url = serializers.URLField(
            allow_null=True,
            help_text=(
                "For a link made for one OAuth slot (`slot`): goes straight to the app's "
                "consent page, with no form first; afterwards the customer lands on the "
                "form's result page (connected, or what went wrong and a way to try again). "
                "Null for other links."
            ),
        )

    @extend_schema(
        operation_id="tenants_connect_links_list",
        summary="List a tenant's connect links",
        parameters=[ConnectLinkFilters],
        responses=ConnectLinkOutput(many=True),
        tags=["connections"],
    )
    def get(self, request, external_id: str):
        """The tenant's connect links, newest first, with their state. Their URLs and tokens
        are shown only when a link is issued."""
        tenant = selectors.tenant_get(external_id=external_id)
        filters = query_filters(request, self.ConnectLinkFilters)
        links = connect_links.connect_link_list(tenant=tenant, state=filters.get("state"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(links, request, view=self)
        return paginator.get_paginated_response(ConnectLinkOutput(page, many=True).data)

    @extend_schema(
        operation_id="tenants_connect_links_create",
        summary="Issue a connect link",
        request=ConnectLinkInput,
        responses={201: ConnectLinkIssuedOutput},
        examples=[
            OpenApiExample(
                "A link for one slot",
                value={"slot": "shop", "return_url": "https://app.example.com/done"},
                request_only=True,
            ),
            OpenApiExample(
                "A portal link",
                value={"sections": ["connections", "settings", "flows", "runs"], "locale": "de"},
                request_only=True,
            ),
        ],
        tags=["connections"],
    )
    def post(self, request, external_id: str):
        """A signed, expiring link to the credential form, or with `sections` to the
        customer's integration page, to send or embed for the tenant."""
        tenant = selectors.tenant_get(external_id=external_id)
        data = self.ConnectLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        issued = connect_links.connect_link_create(
            tenant=tenant,
            slot_key=values.get("slot", ""),
            return_url=values.get("return_url", ""),
            expires_in=timedelta(seconds=values.get("expires_in", 1800)),
            sections=values.get("sections"),
            read_only=values.get("read_only", False),
            locale=values.get("locale", ""),
        )
        body = {
            **ConnectLinkOutput(issued.link).data,
            "url": request.build_absolute_uri(issued.path),
            "token": issued.token,
            "consent_url": (
                request.build_absolute_uri(issued.consent_path) if issued.consent_path else None
            ),
        }
        location = reverse(
            "tenant-connect-link",
            kwargs={"external_id": tenant.external_id, "link_id": str(issued.link.id)},
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


@extend_schema_view(
    get=extend_schema(parameters=[EXTERNAL_ID, LINK_ID]),
    delete=extend_schema(parameters=[EXTERNAL_ID, LINK_ID]),
)
class ConnectLinkApi(ApiView):
    required_scopes = {"get": Scope.TENANTS_READ, "delete": Scope.TENANTS_WRITE}

    @extend_schema(
        operation_id="tenants_connect_links_retrieve",
        summary="Retrieve a connect link",
        responses=ConnectLinkOutput,
        tags=["connections"],
    )
    def get(self, request, external_id: str, link_id: str):
        """One connect link and its state."""
        tenant = selectors.tenant_get(external_id=external_id)
        return Response(
            ConnectLinkOutput(connect_links.connect_link_get(tenant=tenant, link_id=link_id)).data
        )

    @extend_schema(
        operation_id="tenants_connect_links_revoke",
        summary="Revoke a connect link",
        request=None,
        responses={
            200: OpenApiResponse(ConnectLinkOutput, description="Revoked (now, or before)."),
            409: OpenApiResponse(description="`link_expired`: it expired, and no longer opens."),
        },
        tags=["connections"],
    )
    def delete(self, request, external_id: str, link_id: str):
        """Revoke the link: it no longer opens the form. Revoking a revoked link again answers
        the same; an expired link answers 409 `link_expired`."""
        tenant = selectors.tenant_get(external_id=external_id)
        link = connect_links.connect_link_get(tenant=tenant, link_id=link_id)
        link = connect_links.connect_link_revoke(link=link, refuse_expired=True)
        return Response(ConnectLinkOutput(link).data)


class JobNotStartedOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_view(put=extend_schema(parameters=[EXTERNAL_ID, SLOT_KEY]))
class TenantConnectionApi(ApiView):
    required_scopes = {"put": Scope.TENANTS_WRITE}

    class TenantConnectionInput(InputSerializer):
        fields = JsonObjectField(help_text="Field name to value, as the template's slot lists.")

    class TenantConnectionOutput(serializers.Serializer):
        slot = serializers.CharField()
        status = serializers.ChoiceField(choices=ConnectionStatus.choices)
        connection_id = serializers.CharField()
        last_ping_at = serializers.DateTimeField()
        ready = serializers.BooleanField(help_text="Every slot of the tenant now works.")
        job = JobSummaryOutput(
            allow_null=True,
            help_text="The job this connection started, if any: the provision once every slot "
            "works; or, for a live tenant whose connection was gone from integrator.io (a new "
            "one was made), the repair that moves its integration to the new connection.",
        )
        job_not_started = JobNotStartedOutput(
            allow_null=True,
            help_text="Set when every slot works but that job could not be queued (the "
            "credentials are saved all the same): why, as an error code and message. Ask "
            "again with `POST /api/v1/tenants/{external_id}/provision` (`…/repair` for a live "
            "tenant).",
        )

    @extend_schema(
        operation_id="tenants_connections_update",
        summary="Hand over a slot's credentials",
        request=TenantConnectionInput,
        responses={
            200: TenantConnectionOutput,
            **INTEGRATOR_RESPONSES,
            422: OpenApiResponse(
                description="`connection_test_failed`: integrator.io tested the credentials and "
                "they did not work (or it refused to save the connection); the message says "
                "what failed, `error.remote` what the app answered."
            ),
        },
        examples=[
            OpenApiExample(
                "Shop credentials",
                value={
                    "fields": {"base_url": "https://shop.example.com/api", "api_key": "sk_live"}
                },
                request_only=True,
            )
        ],
        tags=["connections"],
    )
    def put(self, request, external_id: str, slot_key: str):
        """Hand over credentials the host app collected: they are tested through integrator.io
        first, and only then is the connection created or updated. Nothing secret is stored."""
        tenant = selectors.tenant_get(external_id=external_id)
        data = self.TenantConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = credentials_submit(
            tenant=tenant,
            slot_key=slot_key,
            values=data.validated_data["fields"],
            requested_by=JobOrigin.API,
        )
        result = outcome.submission
        if not result.ok:
            raise result.failure()
        connection = result.connection
        not_queued = outcome.not_queued
        body = {
            "slot": connection.slot_key,
            "status": connection.status,
            "connection_id": connection.connection_id,
            "last_ping_at": connection.last_ping_at,
            "ready": result.all_slots_ok,
            "job": _job_brief(outcome.job),
            "job_not_started": (
                None
                if not_queued is None
                else {"code": not_queued.code, "message": str(not_queued)}
            ),
        }
        return Response(self.TenantConnectionOutput(body).data)


def _job_as_shown(job, shown: dict) -> dict | None:
    """The job asked for, as the tenant's answer shows it (`current_job` or `last_job`): the
    tenant is read after the request, when a worker may have taken the job, and one answer
    gives the job one status."""
    if job is None:
        return None
    for key in ("current_job", "last_job"):
        if shown.get(key) and shown[key]["id"] == str(job.pk):
            return shown[key]
    return _job_brief(job)


def _job_brief(job) -> dict | None:
    if job is None:
        return None
    return job_summary(
        {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
        }
    )

"""The base class of every API view, the API's root (metadata), integrator.io's status as
this deployment sees it, and its answer for unknown paths."""

import re

from django.core.exceptions import DisallowedHost
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import idempotency, query
from api.authentication import missing_credentials_message
from api.exception_handler import error_body
from api.parsers import FormatParameterContentNegotiation, json_content_type_check
from api.renderers import JsonRenderer
from api.scopes import ANY_SCOPE, Scope
from core import log_context
from core.account_token_checks import RESULTS as TOKEN_CHECK_RESULTS
from core.deployment import deployment_current
from core.errors import NotFoundError
from core.integrator_client import rate_limit_redis
from core.integrator_outage import (
    BREAKER_STATES,
    integrator_accounts_status,
    integrator_status_overall,
)
from core.models import IntegratorRegion
from tenants.selectors import EXTERNAL_ID_PATTERN

_EXTERNAL_ID = re.compile(rf"{EXTERNAL_ID_PATTERN}")


class _ReplayResponse(Exception):
    """Carries a stored response out of `initial()` to `handle_exception()`."""

    def __init__(self, response: HttpResponse):
        self.response = response


class ApiView(APIView):
    """Every API view: strict requests (`api.query`, `api.parsers`), and writes that honour
    `Idempotency-Key` (`api.idempotency`).

    Each view names the scope each of its handlers needs, `required_scopes` (api.scopes):
    deliberately not defined here, so that a view without one fails tests/api/test_scopes.py
    instead of being open to every key."""

    # The query parameters each method takes, by handler name ("get"): a filter serializer
    # class or a tuple of names. A GET of a view with a `pagination_class` also takes
    # `cursor` and `limit`. Anything else in the query string is refused (api.query).
    query_parameters: dict = {}
    # The handlers that read a JSON body. Another write's body is still parsed (malformed JSON
    # is a 400) and must be empty or `{}`: a field sent to an operation that takes none is
    # refused and named, never ignored. Checked against the OpenAPI document's request
    # bodies by tests/api/test_strictness.py, so the two cannot drift apart.
    body_handlers: frozenset[str] = frozenset({"post", "put", "patch"})

    # No OPTIONS: DRF's answer to it (a view's name and description, 200, to any key) is not
    # in the API's document nor in its error shape, and no browser calls the API (keys are
    # server-side: no CORS preflight to answer). So it is a 405 like any other method a view
    # lacks, and `Allow` does not list it.
    http_method_names = [name for name in APIView.http_method_names if name != "options"]

    _idempotency_record = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        """After authentication: the method must be one the view has (405), the query string
        must hold only the parameters it takes (400), and a body must be JSON (415); then a
        write claims its `Idempotency-Key` (see `api.idempotency`). The key is claimed after
        authentication, so that a key is scoped to its API key and an unauthenticated caller
        can never read a stored response, and after the checks, so that a request refused
        for its form does not use up its key."""
        super().initial(request, *args, **kwargs)
        # Every line of a tenant's request names it by its external id, the server's line
        # about the request included (core/log_context.py); only once the caller is
        # authenticated, and only a well-formed id.
        external_id = kwargs.get("external_id")
        if isinstance(external_id, str) and _EXTERNAL_ID.fullmatch(external_id):
            log_context.request_bind(tenant=external_id)
        handler = request.method.lower()
        if handler not in self.http_method_names or not hasattr(self, handler):
            raise exceptions.MethodNotAllowed(request.method)
        query.query_parameters_check(request.query_params, self.known_query_parameters(handler))
        # Reading the raw body here makes Django enforce DATA_UPLOAD_MAX_MEMORY_SIZE (413)
        # before a parser reads it; the parsers then read it again from memory.
        if request.method in idempotency.METHODS and request._request.body:
            json_content_type_check(request.content_type)
            body = request.data  # a body that is not JSON is a 400 here, whatever the handler
            if handler not in self.body_handlers and body != {}:
                raise _no_body_taken(body)
            if not isinstance(body, dict):
                raise _not_an_object(body)
        key = request.headers.get(idempotency.HEADER)
        if key is None or request.method not in idempotency.METHODS:
            return
        idempotency.idempotency_key_check(key=key)
        # The path as the schema shows it: a retry may add or drop the trailing slash
        # (api.routes serves both), and is still the same request.
        path, query_mark, query_string = request.get_full_path().partition("?")
        path = path.rstrip("/") + query_mark + query_string
        outcome = idempotency.idempotency_claim(
            api_key=request.auth,
            key=key,
            method=request.method,
            path=path,
            fingerprint=idempotency.request_fingerprint(
                method=request.method, path=path, body=request._request.body
            ),
        )
        if isinstance(outcome, idempotency.Replay):
            record = outcome.record
            response = HttpResponse(
                idempotency.idempotency_replay_body(record=record),
                status=record.response_status,
                content_type=record.response_content_type or None,
            )
            if record.response_location:
                response["Location"] = record.response_location
            response[idempotency.REPLAYED_HEADER] = "true"
            raise _ReplayResponse(response)
        self._idempotency_record = outcome.record

    def known_query_parameters(self, handler: str) -> tuple[str, ...]:
        names = query.parameter_names(self.query_parameters.get(handler, ()))
        if handler == "get" and getattr(self, "pagination_class", None) is not None:
            names += query.PAGINATION_PARAMETERS
        return names

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            # DRF's "Authentication credentials were not provided." says neither where nor how.
            raise exceptions.NotAuthenticated(missing_credentials_message(request))
        super().permission_denied(request, message=message, code=code)

    def handle_exception(self, exc):
        if isinstance(exc, _ReplayResponse):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Kept by no browser or cache on the way, a replayed answer included: some carry a
        # credential shown once (a connect link's token and URL, a webhook signing secret),
        # every one the host app's customers' data (as the admin's pages of a new key).
        add_never_cache_headers(response)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            idempotency.idempotency_complete(
                record=record,
                status=response.status_code,
                body=response.content,
                content_type=response.get("Content-Type", ""),
                location=response.get("Location", ""),
                retry_after=response.get("Retry-After", ""),
            )
        return response


def _no_body_taken(body) -> exceptions.ValidationError:
    message = "This operation takes no body; send none (or {})."
    if isinstance(body, dict):
        return exceptions.ValidationError({name: [message] for name in body})
    return exceptions.ValidationError([message])


def _not_an_object(body) -> exceptions.ValidationError:
    """Every body the API takes is an object: JSON null was "No data provided" (it was
    provided), a list "Expected a dictionary" (Python's word, not the document's)."""
    kinds = {type(None): "null", list: "a list", str: "a string", bool: "true or false"}
    kind = kinds.get(type(body), "a number")
    return exceptions.ValidationError(
        [f"The body must be a JSON object ({{...}}); this one is {kind}."]
    )


def bad_request(request, exception):
    """Django's 400 for a request refused before any view (config/urls.py's handler400): a
    Host header missing from ALLOWED_HOSTS, or another SuspiciousOperation. Under /api it is
    the API's error shape, for the client that parses it; elsewhere Django's plain page. What
    the request sent is never repeated: it is whatever the caller put there."""
    if request.path_info != "/api" and not request.path_info.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        message = (
            "The request's Host header names a host this service does not answer to. Call "
            "the API at its published address (the service's ALLOWED_HOSTS)."
        )
    else:
        message = "The request was refused as malformed."
    return JsonResponse(error_body("bad_request", message), status=400)


class UnknownEndpointApi(ApiView):
    """Any path under /api/ that names no endpoint: a 404 in the API's error shape."""

    authentication_classes = []
    permission_classes = []
    schema = None
    # No handler and no authentication: nothing here for any key to reach.
    required_scopes: dict = {}

    def initial(self, request, *args, **kwargs):
        # Whatever the method, query string or body: there is nothing here to check them for.
        raise NotFoundError(
            "No API endpoint at this path (version 1 of the API is under /api/v1). The "
            "endpoints are listed at /api/docs/ "
            "(the OpenAPI schema at /api/schema/)."
        )


class DeploymentOutput(serializers.Serializer):
    identity = serializers.CharField(
        help_text="This deployment's identity: every resource it writes to integrator.io "
        "carries it (tags, externalIds, names)."
    )
    created_at = serializers.DateTimeField()
    rekeyed_from = serializers.CharField(
        allow_null=True, help_text="The identity this database had before a rekey, if any."
    )


class IntegratorStatusOutput(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=BREAKER_STATES,
        help_text="The deployment's circuit breaker for integrator.io: `closed` (calls go "
        "out), `open` (integrator.io has been failing: calls that need it answer 503 "
        "`integrator_unavailable` at once, with Retry-After until the next probe), `half_open` "
        "(one probe call is out), `disabled` (INTEGRATOR_BREAKER_ENABLED=0), `unknown` (Redis "
        "cannot say).",
    )
    since = serializers.DateTimeField(
        allow_null=True, help_text="When the breaker entered this state (null: never changed)."
    )
    failures = serializers.IntegerField(
        help_text="Consecutive failed calls while closed; failed calls of the outage while open."
    )
    next_probe_at = serializers.DateTimeField(
        allow_null=True, help_text="While open: when one call will next try integrator.io."
    )
    episode = serializers.CharField(
        allow_null=True,
        help_text="While open or half-open: the outage's id, as in the `integrator.unavailable` "
        "webhook.",
    )


class CallerKeyOutput(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first 8 characters, as the admin lists it.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.values),
        help_text="What the key may do; each operation names the scope it needs.",
    )
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Null: never.")


class AccountStatusOutput(IntegratorStatusOutput):
    key = serializers.CharField(help_text="The account's key (admin: integrator.io accounts).")
    name = serializers.CharField()
    region = serializers.ChoiceField(
        choices=IntegratorRegion.choices, help_text="integrator.io's region."
    )
    default = serializers.BooleanField(
        help_text="The account of INTEGRATOR_API_URL / INTEGRATOR_API_TOKEN."
    )


class IntegratorStatusWithAccountsOutput(IntegratorStatusOutput):
    accounts = AccountStatusOutput(
        many=True,
        help_text="Each integrator.io account's own breaker (an outage or a 429 of one never "
        "stops another's calls). The fields above are the default account's, or the worst "
        "other account's while the default is well. Never a token.",
    )


def _integrator_status_body() -> dict:
    accounts = integrator_accounts_status(rate_limit_redis())
    return {
        **integrator_status_overall(accounts).as_dict(),
        "accounts": [account.as_dict() for account in accounts],
    }


def integrator_accounts_body() -> list[dict]:
    return [
        {
            **account.as_dict(),
            "token": account.token_source,
            "token_check": account.token_check.as_dict(),
        }
        for account in integrator_accounts_status(rate_limit_redis())
    ]


class ApiRootOutput(serializers.Serializer):
    api_version = serializers.CharField()
    deployment = DeploymentOutput()
    api_key = CallerKeyOutput(help_text="The key this request was sent with.")
    integrator = IntegratorStatusOutput(
        help_text="integrator.io as this deployment sees it (as in GET /api/v1/integrator/status)."
    )
    documentation_url = serializers.URLField()
    schema_url = serializers.URLField()


class ApiRootApi(ApiView):
    required_scopes = {"get": ANY_SCOPE}

    @extend_schema(
        operation_id="api_root", summary="Describe this API", responses=ApiRootOutput, tags=["meta"]
    )
    def get(self, request):
        """What this API is: its version, the deployment it belongs to, its documentation, and
        what the key the request was sent with may do."""
        deployment = deployment_current()
        body = {
            "api_version": "v1",
            "deployment": {
                "identity": deployment.identity,
                "created_at": deployment.created_at,
                "rekeyed_from": deployment.rekeyed_from or None,
            },
            "integrator": integrator_status_overall(
                integrator_accounts_status(rate_limit_redis())
            ).as_dict(),
            "api_key": {
                "name": request.user.name,
                "prefix": request.auth.prefix,
                "scopes": [scope for scope in Scope.values if scope in request.user.scopes],
                "expires_at": request.auth.expiry_date,
            },
            "documentation_url": request.build_absolute_uri("/api/docs/"),
            "schema_url": request.build_absolute_uri("/api/schema/"),
        }
        return Response(ApiRootOutput(body).data)


class IntegratorStatusApi(ApiView):
    required_scopes = {"get": Scope.OPS_READ}

    @extend_schema(
        operation_id="integrator_status",
        summary="integrator.io's status",
        responses=IntegratorStatusWithAccountsOutput,
        tags=["meta"],
    )
    def get(self, request):
        """Whether this deployment is calling integrator.io right now, from the circuit breaker
        of each integrator.io account (shared by every process of the deployment): after
        repeated timeouts or 5xx answers it stops calling and lets one probe call through per
        interval. Read only; this request
        itself never calls integrator.io."""
        return Response(IntegratorStatusWithAccountsOutput(_integrator_status_body()).data)


class TokenCheckOutput(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=list(TOKEN_CHECK_RESULTS),
        allow_null=True,
        help_text="What integrator.io last said of the account's API token: `accepted` or "
        "`refused` (every call of the account's tenants fails until an operator sets a valid "
        "token; the breaker stays closed, as integrator.io answers). Null: not checked since "
        "the account was last saved.",
    )
    checked_at = serializers.DateTimeField(
        allow_null=True, help_text="When integrator.io said it; null when not checked."
    )


class IntegratorAccountOutput(AccountStatusOutput):
    token_check = TokenCheckOutput(
        help_text="Learnt by /readyz (which asks every account whose breaker is closed) and "
        "by any call integrator.io answers 401; this list makes no call of its own."
    )
    token = serializers.ChoiceField(
        choices=["set", "unreadable", "environment", "not set"],
        help_text="Whether the account has an API token: stored encrypted (`set`), stored but "
        "not readable with the configured ENCRYPTION_KEYS (`unreadable`: store a new one), the "
        "default account's INTEGRATOR_API_TOKEN (`environment`), or none. Never the token.",
    )


class IntegratorAccountsOutput(serializers.Serializer):
    results = IntegratorAccountOutput(many=True)


class IntegratorAccountsApi(ApiView):
    required_scopes = {"get": Scope.OPS_READ}

    @extend_schema(
        operation_id="integrator_accounts_list",
        summary="List integrator.io accounts",
        responses=IntegratorAccountsOutput,
        tags=["meta"],
    )
    def get(self, request):
        """The integrator.io accounts this deployment talks to (the default one first): key,
        name, region, circuit breaker, whether a token is set and what integrator.io last
        said of it (`token_check`, with its time). Accounts are added in the admin or with
        `manage.py integrator_account`; a tenant is placed on its template's account. Read
        only; never calls integrator.io, never shows a token."""
        return Response(IntegratorAccountsOutput({"results": integrator_accounts_body()}).data)


class OpenApiDocumentApi(SpectacularAPIView):
    """The OpenAPI document, JSON or YAML by `Accept` or by `?format=json|yaml`."""

    content_negotiation_class = FormatParameterContentNegotiation

    def perform_content_negotiation(self, request, force=False):
        if force:
            # Asked only to answer an error raised before a renderer was chosen (an unknown
            # format, an Accept it cannot serve): DRF would take the document's first
            # renderer, and a YAML error body would call itself an OpenAPI document. It is
            # the API's JSON error, as everywhere else.
            renderer = JsonRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            add_never_cache_headers(response)  # as every error of the API
        return response

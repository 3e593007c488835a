"""Every choice the sandbox makes where the integrator.io documentation is silent.

docs/integrator-io.md lists what the project relies on, with its public sources, and marks what
no source settles as an assumption. The sandbox's answer to each open question lives here, once,
so that it is easy to change when the real API is observed to behave differently.
sandbox/README.md repeats this list in prose.
"""

import re

# --- Transport -----------------------------------------------------------------------------

# The 401 body is not documented; the sandbox uses the usual envelope.
UNAUTHORIZED_CODE = "unauthorized"
UNAUTHORIZED_MESSAGE = "Unauthorized: the bearer token is missing, unknown or expired."

# The 404 body is not documented; the sandbox uses the usual envelope for unknown ids and
# for unknown paths alike.
NOT_FOUND_CODE = "not_found"


def not_found_message(model: str) -> str:
    return f"{model} not found."


ROUTE_NOT_FOUND_MESSAGE = "Unknown API path."

# All API tokens see one and the same account: the data is shared, the rate-limit bucket is
# per token.
TOKEN_USER_ID_PREFIX = "5eed"

# Validation errors on a create or update: 422 with code "missing_required_field" or
# "invalid_field" (the envelope example in the docs uses "invalid_field" with `field`).
VALIDATION_STATUS = 422
# A reference to an id that does not exist (e.g. `_connectionId`) on create or update.
INVALID_REF_STATUS = 422
# Errors about the body of a clone request (documented codes, undocumented status).
CLONE_REQUEST_ERROR_STATUS = 400
INVALID_REF_MESSAGE = "Integration not found for the given id"

# A body that is not valid JSON (but sent as JSON) gets 400 "invalid_json".
INVALID_JSON_STATUS = 400

# --- Lists -----------------------------------------------------------------------------------

# The docs say both "default 1000" and "limit default 100". The smaller default surfaces
# pagination bugs sooner. `limit` above MAX_PAGE_SIZE is clamped.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Jobs: "up to 1001 per page", newest first, no Link header.
JOBS_PAGE_SIZE = 1001
# Only these top-level lists answer 204 with no body when empty (documented); every other
# list (sub-lists included) answers 200 [].
EMPTY_LIST_NO_CONTENT = frozenset({"connections", "flows"})
# include/exclude projection is documented for integrations; the sandbox honours it on every
# Link-paged list.
PROJECTION_PARAM_PATTERN = re.compile(r"^[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)*$")
# Simple equality filters honoured on GET /exports and GET /imports (seen in Celigo's own
# calls); unknown query parameters are ignored everywhere, as `GET /flows?_integrationId=`
# is unconfirmed: use GET /integrations/{id}/flows.
RESOURCE_LIST_FILTERS = ("adaptorType", "_connectionId", "_integrationId")

# --- Writes ----------------------------------------------------------------------------------

# Reads mask secrets as "******"; a write that sends "******" back stores that literal string,
# as the real API does (this is why a client must never echo a fetched connection back).
MASKED_SECRET = "******"
# Fields the server owns: ignored in POST/PUT bodies, refused in PATCH paths.
SERVER_FIELDS = frozenset({"_id", "createdAt", "lastModified", "lastModifiedBy", "apiIdentifier"})
# PATCH answers 204 for every resource (documented for flows and exports).
PATCH_STATUS = 204
# Paths a JSON Patch may touch, per resource (None: any non-server field). Documented for flows
# and exports; undocumented for the others, which the sandbox leaves open.
PATCH_ALLOWED_PATHS: dict[str, re.Pattern | None] = {
    "flows": re.compile(
        r"^/(name|description|schedule|timezone|disabled|runPageGeneratorsInParallel|aliases"
        r"(/.*)?|pageGenerators/\d+/(schedule|skipRetries)"
        r"|routers/\d+/name|routers/\d+/branches/\d+/name)$"
    ),
    "exports": re.compile(r"^/(debugUntil|assistantMetadata(/.*)?|([^/]+/)*distributed/disabled)$"),
    "imports": None,
    "connections": None,
    "integrations": None,
    "iclients": None,
}
# DELETE never cascades (sandbox/models/store.py deletes the one document); deleting a
# connection still used by exports is allowed.

# --- Connections -----------------------------------------------------------------------------

# Ping success body (documented) and failure (undocumented): 200 with the envelope by default,
# the status is configurable (SANDBOX_PING_FAILURE_STATUS). `code` is the target's HTTP status
# when it answered, else a Node-style network error code.
PING_SUCCESS_BODY = {"code": 200}
PING_FAILURE_STATUS = 200
PING_NETWORK_ERROR_CODES = {
    "refused": "ECONNREFUSED",
    "timeout": "ETIMEDOUT",
    "dns": "ENOTFOUND",
    "other": "ECONNRESET",
    "invalid_url": "ERR_INVALID_URL",
}
# For types the sandbox cannot really reach (netsuite, ftp, salesforce, ...) a ping fails when
# a secret equals this value, or when the sub-object lacks credentials for its auth type.
INVALID_SECRET_VALUE = "invalid"
# An http/rest connection with no ping path configured is pinged at its baseURI.
PING_DEFAULT_RELATIVE_URI = ""
# A successful ping of an offline connection brings it back online.
PING_SUCCESS_CLEARS_OFFLINE = True

# --- Clone -----------------------------------------------------------------------------------

# Connections the template uses but connectionMap leaves out are copied (and listed in the
# manifest): not documented (docs/integrator-io.md, "Integrations and cloning").
CLONE_COPIES_UNMAPPED_CONNECTIONS = True
CLONE_DEFAULT_NAME = "Clone - {name}"
# Cloned flows keep the source's `disabled`; `schedule` is not copied (documented).
CLONE_KEEPS_DISABLED = True
# Manifest order: Integration, Connection, Export, Import, Flow.
CLONE_MANIFEST_ORDER = ("Integration", "Connection", "Export", "Import", "Flow")
# connectionMap values must name existing connections; keys the template does not use are
# ignored.
CLONE_IGNORES_UNUSED_MAP_KEYS = True
# Cloning an integration cancels "jobs in progress on the source integration's connections"
# (documented). The sandbox reads that literally: the queued and running jobs of every flow, in
# any integration, with a step on one of the connections the source uses (registered, its own,
# or its exports' and imports'). A flow clone cancels nothing (nothing documents it).
CLONE_CANCELS_SOURCE_JOBS = True
# Whether the clone keeps the `tag` sent in its request is not documented. It does by default;
# the runtime setting `clone_keeps_tag` turns that off, for clients that must not rely on it.
CLONE_KEEPS_TAG = True

# --- replaceConnection -----------------------------------------------------------------------

# `PUT /{flows|exports|imports}/{id}/replaceConnection` with {"_newConnectionId"} is documented;
# for an export or import it sets `_connectionId` (a `_connectionId` in the body is ignored).
# A flow has no connection of its own and the docs do not say which of its connections the
# action replaces: the sandbox wants the one to replace in this field, and re-points every
# export and import of the flow's steps that uses it. Those exports and imports are shared
# documents, so another flow using them sees the change too.
FLOW_REPLACED_CONNECTION_FIELD = "_connectionId"
# The new connection must have the same `type` as the one it replaces (the UI offers only
# connections of the same type; the API's rule is not documented).
REPLACE_CONNECTION_SAME_TYPE = True
# A missing `_newConnectionId` is a 422 missing_required_field, an unknown one a 422
# invalid_ref (the usual validation statuses above); the answer is 200 with the updated
# export, import or flow.

# --- Flows and jobs --------------------------------------------------------------------------

# A schedule is a 6-field cron: second, minute, hour, day of month, month, day of week. The
# docs show the second as `?` and refuse 5 fields; the sandbox refuses any other second, takes
# `*`, values, ranges, steps, lists and JAN-DEC / SUN-SAT names in the other fields, `?` in the
# day fields, and days of week 0-7 (0 and 7 are Sunday). Quartz's `L`, `W` and `#` are refused.
CRON_SECOND_FIELD = "?"
CRON_DAY_OF_WEEK_RANGE = (0, 7)
# `timezone` must be an IANA zone name known to the sandbox's tz database (zoneinfo).
# An enabled flow with a schedule runs by itself, once in each minute its schedule names, in
# its `timezone` (documented: "an enabled scheduled flow starts running straight away"). A
# flow without a timezone is scheduled in this zone (the docs leave it to the account's
# profile, which the sandbox does not have). Only the flow's own `schedule` fires (the page
# generators' own schedules are stored, not run). A scheduled minute that comes while the
# flow's previous run is still queued is skipped rather than queued behind it, and minutes
# that passed while the sandbox was stopped are not caught up (not documented either way).
DEFAULT_FLOW_TIMEZONE = "UTC"
SCHEDULED_RUN_SKIPPED_WHILE_QUEUED = True

# POST /flows/{id}/run answers 201 with this key holding the new flow job's id.
FLOW_RUN_RESPONSE_KEY = "_jobId"
# A disabled flow can still be run on demand (nothing refuses it; the service refuses it
# itself before calling, see runs/actions.py).
# A run whose flow uses an offline connection ends `failed`, with one job error.
OFFLINE_CONNECTION_FAILS_JOB = True
# Parent queries need one of these; child queries (type export/import) one of the next.
# The 2017 docs answered `?type=import&status=running` (no resource id) with 200; that
# contradicts the current rule (docs/integrator-io.md, "Flows and jobs"), which the sandbox
# follows: such a query gets 400.
PARENT_JOB_QUERY_KEYS = (
    "_integrationId",
    "_flowId",
    "_flowId_in",
    "_exportId",
    "_importId",
    "_flowJobId",
    "_jobId",
    "createdAt_gte",
    "createdAt_lte",
)
CHILD_JOB_QUERY_KEYS = ("_flowJobId", "_exportId", "_importId")
PARENT_JOB_TYPES = ("flow", "retry", "bulk_retry")
CHILD_JOB_TYPES = ("export", "import")
PARENT_QUERY_MESSAGE = (
    'For parent jobs, query parameters must contain either "_integrationId" or "_jobId" '
    'or "createdAt"'
)
CHILD_QUERY_MESSAGE = (
    'For child jobs, query parameters must contain either "_flowJobId" or "resourceId"'
)
# Child jobs also carry `_flowId` and `_integrationId`.
# The spelling of the cancelled states: "canceling" / "canceled".
# Cancelling a job that has already ended answers 422 "invalid_job_status".
# GET /jobs/{flowJobId}/joberrors also lists the errors of the flow job's children.
# Not documented for joberrors (EM 1.0): `traceKey`, the failed record's key, which EM 2.0's
# errors document. A record's joberror carries one here too; an export that read nothing
# names no record (no traceKey, in either mode).
JOB_PURGE_DAYS = 30
# No two jobs share a createdAt millisecond, so paging by createdAt_lte minus 1 ms never skips
# one. createdAt is the account's clock, which the control plane can set ahead of or behind
# the caller's (`clock_offset_seconds`). Not documented: whether a job can become visible after
# a job with a later createdAt (several servers, clocks a little apart). The sandbox lets a
# test make that happen by stepping its clock back: jobs made after the step carry earlier
# createdAt values than older ones, and `GET /jobs` still answers in createdAt order.
# A page of `GET /jobs` that holds fewer jobs than the page size is the last one.

# --- Error Management 2.0: per-step errors ---------------------------------------------------
# Documented (docs/integrator-io.md, "Run errors"): EM 2.0 is the default for new accounts;
# GET /flows/{flowId}/{stepId}/errors (open) and .../resolved answer 200 with the errors in the
# body and a `nextPageURL` while more exist; PUT .../resolved {"errors": [errorId, ...]} 204;
# POST .../retry {"retryDataKeys": [...]}; query filters occurredAt_gte/_lte and source.
DEFAULT_ERROR_MANAGEMENT = 2
# The web UI reads open errors under "errors" and resolved ones under "resolved".
OPEN_ERRORS_KEY = "errors"
RESOLVED_ERRORS_KEY = "resolved"
# Not documented: the page size (the UI acts on at most 1000 errors at a time) and the form
# of `nextPageURL`: here an API path with the same filters and a `skip` offset.
STEP_ERRORS_PAGE_SIZE = 100
STEP_ERRORS_MAX_IDS = 1000
# Not documented: what an account without EM 2.0 answers on the per-step paths (404 here),
# and what an EM 2.0 account answers on GET /jobs/{id}/joberrors (404 here, as a public note on
# newer accounts says; the EM 2.0 UI never calls it).
EM1_STEP_ERRORS_MESSAGE = "Error Management 2.0 is not enabled for this account."
EM2_JOB_ERRORS_MESSAGE = (
    "This account uses Error Management 2.0: read errors at /flows/{flowId}/{stepId}/errors."
)
# Not documented: unknown errorIds and retryDataKeys are ignored, but a retry none of whose
# keys is an open error of the step is 422 invalid_field. A retry answers 200 with the retry
# job (type "retry", `_flowJobId` the retried errors' run when they share one), which has
# ended when the answer is sent, or runs for the setting `retry_run_seconds`. Each retried
# error is resolved (`resolvedBy: "retry"`) at once; a record that fails again is a new open
# error, once the retry job has ended, with the same retryDataKey and `_flowJobId`, so it
# stays with its run. Whether a retried record fails again follows the flow's next forced
# outcome (its numError, or all of them for "failed"); without one it succeeds.
# An error of a failed export step has no retryDataKey (there is no record to retry).

# --- Virtual exports and imports, State API --------------------------------------------------

# A virtual export whose target gives no records answers 422, with the target's status (or a
# Node-style network error code) as `code`.
VIRTUAL_EXPORT_FAILURE_STATUS = 422
# The resources that keep their own State API keys (/{type}/{id}/state); the resource must exist.
STATE_RESOURCE_TYPES = ("connections", "exports", "imports", "flows", "integrations")

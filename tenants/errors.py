"""The errors of the tenants domain, each a kind of `core.errors.ApplicationError`."""

from core.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnprocessableError,
)


class TemplateNotFound(NotFoundError):
    code = "template_not_found"


class TemplateInvalid(InvalidInputError):
    code = "invalid_template"


class VersionConflict(ConflictError):
    """A published template version loaded again with other content."""

    code = "template_version_conflict"


class VersionNotNewer(ConflictError):
    """A version published after a higher one: new tenants are built to the version published
    last, so a lower one would take them back (publish it above the newest instead)."""

    code = "template_version_not_newer"


class TemplateVersionNotFound(NotFoundError):
    code = "template_version_not_found"


class VersionNotRetirable(ConflictError):
    """The version new tenants are built to cannot be retired: publish a newer one first."""

    code = "template_version_current"


class TenantNotFound(NotFoundError):
    code = "tenant_not_found"


class SlotNotFound(NotFoundError):
    """A slot named in the path (`PUT /tenants/{id}/connections/{slot}`): a 404."""

    code = "slot_not_found"


class SlotNotInTemplate(InvalidInputError):
    """A slot named in the request body (a connect link's or an adoption's `slot`) that the
    tenant's template does not have: a bad field, so a 400 `invalid_fields` naming it, as every
    refused body field is (README, "API conventions"); one named in the path is a 404
    `slot_not_found` (SlotNotFound)."""


class TenantExists(ConflictError):
    code = "tenant_exists"


class TenantStillDeprovisioning(TenantExists):
    """The external id's tenant is still being deprovisioned: it can be registered again once
    that job has finished, usually within seconds."""

    code = "tenant_deprovisioning"
    retry_after = 10


class TenantTransitionError(ConflictError):
    """An illegal status change, or one that lost a race with another writer."""

    code = "invalid_status_transition"


class TenantGone(ConflictError):
    """The tenant is being (or has been) deprovisioned; it takes no new work."""

    code = "tenant_deprovisioned"


class RegionUnavailable(InvalidInputError):
    """The host asked for a region its template's integrator.io account is not in: a field
    that does not go with the template, as an inactive template is (400)."""

    code = "region_unavailable"


class SettingsInvalid(InvalidInputError):
    code = "invalid_settings"


class ConnectionFieldsInvalid(InvalidInputError):
    code = "invalid_connection_fields"


class ConnectionTestFailed(UnprocessableError):
    """integrator.io tried the credentials and they did not work (or it refused the body)."""

    code = "connection_test_failed"


class ConnectLinkNotFound(NotFoundError):
    code = "connect_link_not_found"


class ConnectLinkNotRevocable(ConflictError):
    """An expired link cannot be revoked: it no longer opens anyway."""

    code = "link_expired"


class ConnectLinkInvalid(ApplicationError):
    """Not a link we signed (tampered with, cut short, guessed): it names nothing we know."""

    code = "invalid_connect_link"
    http_status = 404


class ConnectLinkExpired(ConnectLinkInvalid):
    """A link we signed that no longer works: expired, revoked, or its tenant is gone. Only
    its holder can know this, since only we can sign; the answer is Gone (410).

    `locale` is the link's own language when the link is still on record, so that the page
    saying it expired speaks the language the host app chose for its customer. `expired` is
    whether it ran out of time; False when it was revoked (which wins over its time running
    out), its tenant is gone or it is no longer on record: its page then says only that it
    is no longer valid. `frame_origins` are the allowed origins of the tenant the link names
    (when still on record): the host page that embedded the link may go on framing the page
    that says so, which shows nothing of the tenant."""

    code = "expired_connect_link"
    http_status = 410

    def __init__(
        self,
        message: str,
        *,
        locale: str = "",
        expired: bool = True,
        frame_origins: list[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(message, **kwargs)
        self.locale = locale
        self.expired = expired
        self.frame_origins = list(frame_origins or [])


__all__ = [
    "ConnectLinkExpired",
    "ConnectLinkInvalid",
    "ConnectLinkNotFound",
    "ConnectLinkNotRevocable",
    "ConnectionFieldsInvalid",
    "ConnectionTestFailed",
    "SettingsInvalid",
    "SlotNotFound",
    "SlotNotInTemplate",
    "TemplateInvalid",
    "TemplateNotFound",
    "TemplateVersionNotFound",
    "TenantExists",
    "TenantGone",
    "TenantNotFound",
    "TenantStillDeprovisioning",
    "TenantTransitionError",
    "VersionConflict",
    "VersionNotNewer",
    "VersionNotRetirable",
]


class OAuthNotConfigured(UnprocessableError):
    """The deployment has no OAuth client for the slot (OAUTH_CLIENTS)."""

    code = "oauth_client_not_configured"


class OAuthClientInvalid(InvalidInputError):
    """An OAuth client record that cannot be saved as asked (its token URL moved without its
    secret typed again)."""

    code = "oauth_client_invalid"


class OAuthExchangeFailed(UnprocessableError):
    """The app's token endpoint did not turn the authorisation code into tokens."""

    code = "oauth_exchange_failed"


class OAuthSlotOnly(InvalidInputError):
    """An OAuth slot is connected by consent at the app, not with typed values."""

    code = "oauth_slot"


class SettingNotEditable(InvalidInputError):
    """A setting the template version does not let the customer change (its `portal`)."""

    code = "setting_not_editable"


class FlowNotToggleable(InvalidInputError):
    """A flow the template version does not let the customer switch on or off."""

    code = "flow_not_toggleable"

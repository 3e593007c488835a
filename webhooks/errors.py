"""The errors of the webhooks domain, each a kind of `core.errors.ApplicationError`."""

from core.errors import ConflictError, NotFoundError


class EndpointNotFound(NotFoundError):
    code = "webhook_endpoint_not_found"


class EndpointDisabled(ConflictError):
    code = "webhook_endpoint_disabled"


class DeliveryNotFound(NotFoundError):
    code = "webhook_delivery_not_found"


class EventNotFound(NotFoundError):
    code = "webhook_event_not_found"

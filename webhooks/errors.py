"""The errors of the webhooks domain, each a kind of `api.errors.ApplicationError`."""

from api.errors import ConflictError, NotFoundError


class EndpointNotFound(NotFoundError):
    code = "webhook_endpoint_not_found"


class DeliveryNotFound(NotFoundError):
    code = "webhook_delivery_not_found"


class DeliveryNotReplayable(ConflictError):
    code = "webhook_delivery_not_replayable"

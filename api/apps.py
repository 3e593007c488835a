from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Plumbing shared by every endpoint under /api/: authentication by API key, the error
    shape, idempotent retries, pagination and the OpenAPI schema."""

    name = "api"
    verbose_name = "Host app API"

    def ready(self):
        # Registers the OpenAPI extension for ApiKeyAuthentication.
        from api import schema  # noqa: F401
        from api.api_key_audit import api_key_receivers_connect

        api_key_receivers_connect()

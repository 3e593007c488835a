from tests.tenants.personas import (  # noqa: F401
    acme,
    anonymous_api,
    api,
    globex,
    host_key,
    revoked_key,
    template,
)

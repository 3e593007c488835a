from tests.tenants.personas import host_key  # noqa: F401

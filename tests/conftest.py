import pytest

# One set of fixtures for the whole suite (tests/fixtures/): personas, the worker and the
# sandbox, a provisioning world, live tenants, browsers and servers.
pytest_plugins = [
    "tests.fixtures.personas",
    "tests.fixtures.worker",
    "tests.fixtures.sandbox",
    "tests.fixtures.world",
    "tests.fixtures.live_tenants",
    "tests.fixtures.template_versions",
    "tests.fixtures.redis_server",
    "tests.fixtures.web_server",
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, then the deployment's identity read once, as every
    process does at its first use, so that no test's query count includes that one-off read."""
    from core.deployment import deployment_current

    with django_db_blocker.unblock():
        deployment_current()


@pytest.fixture(autouse=True)
def _audit_actor_per_test():
    """Each test starts with no audit actor: one that calls the API's authentication without
    the request middleware (which resets it at the request's end) must not name the actor of
    the next test's events."""
    from audit.context import actor_reset, actor_set

    token = actor_set(None)
    yield
    actor_reset(token)

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test that gives itself a Redis prefix of its own (REDIS_KEY_PREFIX under the run's,
    for keys no other test may see) leaves nothing under it: the run's keys stay those of its
    deployments' namespaces, which tests/core/test_two_deployments.py asserts of every key.
    Read before the fixtures' teardown, while the test's own prefix is still set (a hook, not
    a fixture: some tests take a parameter named `settings`)."""
    import redis
    from django.conf import settings

    from tests import settings as run_settings

    prefix, url = settings.REDIS_KEY_PREFIX, settings.REDIS_URL
    yield
    if prefix == run_settings.REDIS_KEY_PREFIX or not prefix.startswith(
        run_settings.REDIS_KEY_PREFIX
    ):
        return
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        keys = list(client.scan_iter(f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a test's own Redis that is gone took its keys with it


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(items):
    """pytest-django creates the test database only when a collected test asks for one (a
    `django_db` mark, `db`, `transactional_db`). A test that needs it only through what it
    starts (a worker, a web server: their fixtures depend on `django_db_setup`), run alone or
    with others like it (`-k`), met the developer's own database name instead, and its
    processes failed to connect. When no collected test asks, those tests ask (committed
    data, as their processes need)."""
    if any(_asks_for_a_database(item) for item in items):
        return
    for item in items:
        if "django_db_setup" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.django_db(transaction=True))


def _asks_for_a_database(item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(
        fixtures & {"db", "transactional_db", "live_server"}
    )

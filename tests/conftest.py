pytest_plugins = [
    "tests.fixtures.worker",
    "tests.fixtures.sandbox",
    "tests.fixtures.redis_server",
]

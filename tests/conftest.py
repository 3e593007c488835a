pytest_plugins = [
    "tests.fixtures.worker",
    "tests.fixtures.sandbox",
    "tests.fixtures.web_server",
]

pytest_plugins = [
    "tests.fixtures.worker",
    "tests.fixtures.sandbox",
]

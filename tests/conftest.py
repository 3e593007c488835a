pytest_plugins = [
    "tests.fixtures.worker",
]

import pytest

from tests.sandbox.payloads import Api


@pytest.fixture
def api(sandbox_clean):
    return Api(sandbox_clean)


@pytest.fixture
def control(sandbox_clean):
    return sandbox_clean.control

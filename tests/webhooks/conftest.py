import pytest

from tests.fixtures.live_tenants import (  # noqa: F401
    account,
    live_settings,
    live_worker,
    make_tenant,
    runs_client,
)
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    """A receiver that answers 200 to everything (tests set `.script` for more)."""
    server = Receiver()
    yield server
    server.stop()

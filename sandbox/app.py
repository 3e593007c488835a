"""The sandbox application: one `Sandbox` (account, rules, control state) behind aiohttp."""

import collections
import logging

import aiohttp
from aiohttp import web

from sandbox import control, demo_apps, demo_oauth, responses
from sandbox.middleware import sandbox_middleware
from sandbox.models.faults import FaultBook
from sandbox.models.job_engine import JobEngine
from sandbox.models.rate_limit import RateLimiter
from sandbox.models.store import Store
from sandbox.models.timestamps import clock_offset_set
from sandbox.settings import SandboxSettings, settings_with
from sandbox.web_keys import SANDBOX

logger = logging.getLogger("sandbox")

JOURNAL_SIZE = 2000


class Sandbox:
    """Everything one sandbox process holds; handlers reach it as `request.app[SANDBOX]`."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.startup_settings = settings
        self.settings = settings
        self.store = Store()
        self.faults = FaultBook()
        self.limiter = RateLimiter(settings.rate_limit_burst, settings.rate_limit_per_second)
        self.jobs = JobEngine(self.store, settings)
        self.demo = demo_apps.DemoApps()
        self.crm = demo_oauth.CrmProvider()
        self.ping_outcomes: dict[str, dict] = {}
        self.journal: collections.deque[dict] = collections.deque(maxlen=JOURNAL_SIZE)
        self.http: aiohttp.ClientSession | None = None
        self.base_url = f"http://{settings.host}:{settings.port}"
        clock_offset_set(settings.clock_offset_seconds)

    def configure(self, values: dict[str, object]) -> None:
        previous = self.settings
        self.settings = settings_with(self.settings, values)
        self.jobs.settings = self.settings
        clock_offset_set(self.settings.clock_offset_seconds)
        if (previous.rate_limit_burst, previous.rate_limit_per_second) != (
            self.settings.rate_limit_burst,
            self.settings.rate_limit_per_second,
        ):
            self.limiter.configure(
                self.settings.rate_limit_burst, self.settings.rate_limit_per_second
            )

    def reset(self) -> None:
        """Forget every object, fault, latency rule, forced outcome and runtime setting."""
        self.store.clear()
        self.faults.clear()
        self.jobs.reset()
        self.demo.reset()
        self.crm.reset()
        self.ping_outcomes.clear()
        self.journal.clear()
        self.settings = self.startup_settings
        self.jobs.settings = self.settings
        clock_offset_set(self.settings.clock_offset_seconds)
        self.limiter.configure(self.settings.rate_limit_burst, self.settings.rate_limit_per_second)

    @property
    def demo_base_url(self) -> str:
        """Where the sandbox itself reaches its demo apps (the seed's connections use it)."""
        return (self.settings.public_url or self.base_url).rstrip("/") + "/_demo"


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[sandbox_middleware], client_max_size=16 * 1024 * 1024)
    app[SANDBOX] = sandbox
    responses.add_routes(app.router)
    control.add_routes(app.router)
    demo_oauth.add_routes(app.router)  # before demo_apps: its generic routes match these paths
    demo_apps.add_routes(app.router)
    app.on_startup.append(_open_http_client)
    app.on_cleanup.append(_close_http_client)
    return app


async def _open_http_client(app: web.Application) -> None:
    connector = aiohttp.TCPConnector(limit=100, force_close=False)
    app[SANDBOX].http = aiohttp.ClientSession(connector=connector, trust_env=False)


async def _close_http_client(app: web.Application) -> None:
    if app[SANDBOX].http is not None:
        await app[SANDBOX].http.close()

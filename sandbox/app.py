"""The sandbox application: one `Sandbox` (accounts, rules, control state) behind aiohttp."""

import asyncio
import collections
import contextlib
import logging

import aiohttp
from aiohttp import web

from sandbox import control, demo_apps, demo_oauth, responses
from sandbox.middleware import sandbox_middleware
from sandbox.models.accounts import Account, Accounts, current_account
from sandbox.models.faults import FaultBook
from sandbox.models.job_engine import JobEngine
from sandbox.models.ping import oauth_connections_check
from sandbox.models.rate_limit import RateLimiter
from sandbox.models.schedule_firing import ScheduleFiring
from sandbox.models.store import Store
from sandbox.models.timestamps import clock_offset_set, wall_time
from sandbox.settings import SandboxSettings, settings_with
from sandbox.web_keys import SANDBOX

logger = logging.getLogger("sandbox")

JOURNAL_SIZE = 2000
# How often the scheduler looks at the clock: a scheduled run starts within this many seconds
# of its minute.
SCHEDULE_TICK_SECONDS = 2.0


class Sandbox:
    """Everything one sandbox process holds; handlers reach it as `request.app[SANDBOX]`."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.startup_settings = settings
        self.settings = settings
        self.accounts = Accounts(settings)
        self.faults = FaultBook()
        # One bucket per token, and one token per account: the bucket is the account's.
        self.limiter = RateLimiter(settings.rate_limit_burst, settings.rate_limit_per_second)
        self.demo = demo_apps.DemoApps()
        self.crm = demo_oauth.CrmProvider()
        self.ping_outcomes: dict[str, dict] = {}
        self.journal: collections.deque[dict] = collections.deque(maxlen=JOURNAL_SIZE)
        self.http: aiohttp.ClientSession | None = None
        self.base_url = f"http://{settings.host}:{settings.port}"
        self.schedules = ScheduleFiring()
        clock_offset_set(settings.clock_offset_seconds)

    @property
    def account(self) -> Account:
        """The account of the request being answered (see sandbox.models.accounts)."""
        return current_account.get() or self.accounts.default

    @property
    def store(self) -> Store:
        return self.account.store

    @property
    def jobs(self) -> JobEngine:
        return self.account.jobs

    def configure(self, values: dict[str, object]) -> None:
        previous = self.settings
        self.settings = settings_with(self.settings, values)
        self.accounts.configure(self.settings)
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
        self.accounts.reset()
        self.faults.clear()
        self.demo.reset()
        self.crm.reset()
        self.ping_outcomes.clear()
        self.journal.clear()
        self.schedules = ScheduleFiring()
        self.settings = self.startup_settings
        self.accounts.configure(self.settings)
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
    app.cleanup_ctx.append(_schedules_running)
    return app


async def _schedules_running(app: web.Application):
    """Scheduled flows run by themselves while the sandbox serves (schedule_firing.py)."""
    task = asyncio.create_task(_schedules_loop(app[SANDBOX]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _schedules_loop(sandbox: Sandbox) -> None:
    while True:
        await asyncio.sleep(SCHEDULE_TICK_SECONDS)
        try:
            await scheduled_runs_start(sandbox)
        except Exception:
            # One bad flow must not stop every later schedule (a request's error would
            # only fail that request).
            logger.exception("sandbox: scheduled runs failed this minute")


async def scheduled_runs_start(sandbox: Sandbox) -> list[dict]:
    """Start the runs of the flows due this minute (none when `fire_schedules` is off): each
    as `POST /flows/{id}/run` would, its OAuth connections checked first."""
    due = sandbox.schedules.tick(
        wall_time(), sandbox.accounts, firing=sandbox.settings.fire_schedules
    )
    started = []
    for account, flow in due:
        if sandbox.http is not None:
            await oauth_connections_check(
                sandbox.http, account.store, flow, timeout=sandbox.settings.ping_timeout_seconds
            )
        started.append(account.jobs.run_flow(flow))
    return started


async def _open_http_client(app: web.Application) -> None:
    connector = aiohttp.TCPConnector(limit=100, force_close=False)
    app[SANDBOX].http = aiohttp.ClientSession(connector=connector, trust_env=False)


async def _close_http_client(app: web.Application) -> None:
    if app[SANDBOX].http is not None:
        await app[SANDBOX].http.close()

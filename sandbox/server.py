"""Runs the sandbox: loads the state file, serves until SIGINT/SIGTERM, saves the state."""

import asyncio
import logging
import signal

from aiohttp import web

from sandbox.app import Sandbox, build_app
from sandbox.demo_apps import DEMO_API_KEYS
from sandbox.models.state_file import StateFile
from sandbox.seed import (
    DEMO_INTEGRATION_ID,
    DEMO_INTEGRATION_NAME,
    seed_demo,
    template_version,
    template_version_set,
)
from sandbox.seed_crm import seed_crm_demo
from sandbox.settings import SandboxSettings

logger = logging.getLogger("sandbox")

# In-flight requests (a hang fault sleeps for 30 s) must not delay a stop for long.
SHUTDOWN_TIMEOUT_SECONDS = 1.0
LISTEN_BACKLOG = 1024


async def serve(settings: SandboxSettings) -> None:
    sandbox = Sandbox(settings)
    state_file = None
    if settings.state_file is not None:
        state_file = StateFile(settings.state_file, sandbox.accounts, {"demoCrm": sandbox.crm})
        try:
            if state_file.load():
                logger.info("sandbox state loaded from %s", settings.state_file)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SystemExit(
                f"sandbox: cannot read the state file {settings.state_file}: {exc} "
                "(move it away, or run with --memory)"
            ) from None
        state_file.attach()
    runner = web.AppRunner(
        build_app(sandbox),
        access_log=logging.getLogger("sandbox.access") if settings.access_log else None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
    )
    await runner.setup()
    site = web.TCPSite(
        runner,
        settings.host,
        settings.port,
        backlog=LISTEN_BACKLOG,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
    )
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise SystemExit(
            f"sandbox: cannot listen on {settings.host}:{settings.port}: {exc}"
        ) from None
    port = runner.addresses[0][1]
    # Listening on every interface: the sandbox reaches itself (and its demo apps) locally.
    wildcard = settings.host in ("0.0.0.0", "::", "")  # noqa: S104
    host = "127.0.0.1" if wildcard else settings.host
    sandbox.base_url = f"http://{host}:{port}"
    if settings.seed:
        seed_crm_demo(sandbox.store, demo_base_url=sandbox.demo_base_url)
        # The demo template in every account of the start-up settings (the EU one too), so
        # that `make run` can place a tenant in either region.
        for account in sandbox.accounts:
            seed_demo(account.store, demo_base_url=sandbox.demo_base_url)
            if settings.seed_version:
                template_version_set(
                    account.store, settings.seed_version, demo_base_url=sandbox.demo_base_url
                )
        print(
            f"sandbox demo template integration: {DEMO_INTEGRATION_ID} ({DEMO_INTEGRATION_NAME}) "
            f"version {template_version(sandbox.store)}",
            flush=True,
        )
    keys = ", ".join(f"{app}={key}" for app, key in DEMO_API_KEYS.items())
    print(f"sandbox demo app keys: {keys}", flush=True)
    # Tests and scripts read this line to learn the port (e.g. when started with --port 0).
    eu = "".join(f", EU {sandbox.base_url}/eu/v1" for _ in settings.eu_api_tokens[:1])
    print(f"sandbox listening on {sandbox.base_url} (API {sandbox.base_url}/v1{eu})", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        if state_file is not None:
            state_file.save()
        await runner.cleanup()


def run(settings: SandboxSettings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(settings))

"""Command-line options shared by `python -m sandbox` and `manage.py runsandbox`."""

import argparse

from sandbox.settings import (
    DEFAULT_STATE_FILE,
    SandboxSettings,
    settings_from_env,
    settings_with,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="interface to listen on (SANDBOX_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (SANDBOX_PORT, 8100; 0 picks a free port)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--state", metavar="FILE", help=f"state file (default {DEFAULT_STATE_FILE})")
    where.add_argument("--memory", action="store_true", help="keep no state across restarts")
    parser.add_argument(
        "--seed", action="store_true", help="create the demo template integration if missing"
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")


def settings_from_options(options: argparse.Namespace | dict) -> SandboxSettings:
    """Environment first, then the command line (which wins)."""
    values = options if isinstance(options, dict) else vars(options)
    overrides: dict[str, object] = {}
    if values.get("host"):
        overrides["host"] = values["host"]
    if values.get("port") is not None:
        overrides["port"] = values["port"]
    if values.get("memory"):
        overrides["state_file"] = None
    elif values.get("state"):
        overrides["state_file"] = values["state"]
    if values.get("seed"):
        overrides["seed"] = True
    if values.get("access_log"):
        overrides["access_log"] = True
    return settings_with(settings_from_env(), overrides)

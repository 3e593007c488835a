"""`python -m sandbox [--host H] [--port P] [--state FILE | --memory] [--seed]
[--seed-version VERSION] [--access-log]`.

The only way to start the sandbox: `make run` (Procfile), docker-compose, the test fixtures and
the benchmarks all run this module.
"""

import argparse
import sys

from sandbox.seed import DEMO_VERSIONS
from sandbox.server import run
from sandbox.settings import DEFAULT_STATE_FILE, SettingsError, settings_from_options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local emulator of the integrator.io API."
    )
    parser.add_argument("--host", help="interface to listen on (SANDBOX_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (SANDBOX_PORT, 8100; 0 picks a free port)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--state", metavar="FILE", help=f"state file (default {DEFAULT_STATE_FILE})")
    where.add_argument("--memory", action="store_true", help="keep no state across restarts")
    parser.add_argument(
        "--seed", action="store_true", help="create the demo template integration if missing"
    )
    parser.add_argument(
        "--seed-version",
        choices=DEMO_VERSIONS,
        metavar="VERSION",
        help=f"evolve the demo template integration into this version ({', '.join(DEMO_VERSIONS)}) "
        "once seeded; implies --seed",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    options = parser.parse_args(argv)
    try:
        settings = settings_from_options(options)
    except SettingsError as exc:
        parser.error(str(exc))
    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

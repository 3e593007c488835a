"""`python -m sandbox [--host H] [--port P] [--state FILE | --memory] [--seed]`."""

import argparse
import sys

from sandbox.cli import add_arguments, settings_from_options
from sandbox.server import run
from sandbox.settings import SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local emulator of the integrator.io API."
    )
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        settings = settings_from_options(options)
    except SettingsError as exc:
        parser.error(str(exc))
    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`manage.py generate_encryption_key`: a new key for ENCRYPTION_KEYS, as `id:key`.

It prints the whole entry (`k1:<key>`), which is what ENCRYPTION_KEYS holds (for a rotation:
the new entry first, a comma, then the old ones). Where ENCRYPTION_KEYS is already set (in the
environment, or in the .env file the settings read), the default id is the first `k<n>` it
does not use, so that a rotation's new entry never repeats an id in use (the settings refuse
a repeated id), and an `--id` it uses already is refused. manage.py runs `main` before the settings
load (they refuse to load with DEBUG=0 until ENCRYPTION_KEYS is set); the Django command is
the same thing, for `manage.py help`.
"""

import argparse
import os
import sys
from pathlib import Path

import environ
from django.core.management.base import BaseCommand

from core.encryption import KEY_ID_RULE, key_id_valid, key_new

HELP = "Print a new random entry for ENCRYPTION_KEYS, as id:key (with the id you choose)."


def _arguments(parser) -> None:
    parser.add_argument(
        "--id",
        default=None,
        help=f"the key's id, {KEY_ID_RULE} (default: k1, or the first k<n> that "
        "ENCRYPTION_KEYS does not use yet)",
    )


def _ids_used(configured: str) -> set[str]:
    """The ids of `configured` (ENCRYPTION_KEYS as set, perhaps malformed: only the ids
    before each colon are read, never the keys)."""
    return {item.strip().partition(":")[0] for item in configured.split(",") if item.strip()}


def _free_id(configured: str) -> str:
    """The first `k<n>` not among the ids of `configured`."""
    used = _ids_used(configured)
    number = 1
    while f"k{number}" in used:
        number += 1
    return f"k{number}"


def _configured() -> str:
    """ENCRYPTION_KEYS as the settings will see it: the environment's, else the one in the
    file they read (ENV_FILE, by default the checkout's `.env`, which `make run` writes), read
    the way config/settings.py reads it (the environment wins). Read here, not through the
    settings, which this command must not need."""
    env_file = os.environ.get("ENV_FILE", str(Path(__file__).resolve().parents[3] / ".env"))
    if "ENCRYPTION_KEYS" not in os.environ and env_file and Path(env_file).is_file():
        environ.Env.read_env(env_file, overwrite=False)
    return os.environ.get("ENCRYPTION_KEYS", "")


def _entry(key_id: str) -> str:
    if not key_id_valid(key_id):
        raise ValueError(f"--id must be {KEY_ID_RULE}.")
    return f"{key_id}:{key_new()}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="manage.py generate_encryption_key", description=HELP)
    _arguments(parser)
    options = parser.parse_args(argv)
    configured = _configured()
    if options.id and options.id in _ids_used(configured):
        # Printed, the entry went first in ENCRYPTION_KEYS as a rotation puts it, and the
        # settings refused the repeated id: every process stopped at start-up.
        parser.error(
            f"the id {options.id!r} is already in use in ENCRYPTION_KEYS; a rotation's new key "
            f"needs an id of its own: --id {_free_id(configured)}, or leave out --id."
        )
    key_id = options.id or _free_id(configured)
    try:
        print(_entry(key_id))
    except ValueError as error:
        parser.error(str(error))
    print(
        "Set ENCRYPTION_KEYS to this line (to rotate: this line first, then a comma and the "
        "keys in use).",
        file=sys.stderr,
    )
    return 0


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        _arguments(parser)

    def handle(self, *args, **options):
        return sys.exit(main(["--id", options["id"]] if options["id"] else []))

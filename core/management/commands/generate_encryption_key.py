"""`manage.py generate_encryption_key`: a new key for ENCRYPTION_KEYS, as `id:key`.

It prints the whole entry (`k1:<key>`), which is what ENCRYPTION_KEYS holds (for a rotation:
the new entry first, a comma, then the old ones). manage.py runs `main` before the settings
load (they refuse to load with DEBUG=0 until ENCRYPTION_KEYS is set); the Django command is
the same thing, for `manage.py help`.
"""

import argparse
import sys

from django.core.management.base import BaseCommand

from core.encryption import KEY_ID_RULE, key_id_valid, key_new

HELP = "Print a new random entry for ENCRYPTION_KEYS, as id:key (with the id you choose)."


def _arguments(parser) -> None:
    parser.add_argument("--id", default="k1", help=f"the key's id, {KEY_ID_RULE} (default k1)")


def _entry(key_id: str) -> str:
    if not key_id_valid(key_id):
        raise ValueError(f"--id must be {KEY_ID_RULE}.")
    return f"{key_id}:{key_new()}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="manage.py generate_encryption_key", description=HELP)
    _arguments(parser)
    options = parser.parse_args(argv)
    try:
        print(_entry(options.id))
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
        return sys.exit(main(["--id", options["id"]]))

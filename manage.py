#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["generate_encryption_key"]:
        # Before the settings load: with DEBUG=0 they refuse to load without ENCRYPTION_KEYS,
        # and this command is how an operator makes one.
        from core.management.commands.generate_encryption_key import main as key_new_command

        sys.exit(key_new_command(sys.argv[2:]))

    from django.core.management import execute_from_command_line

    from config.startup import exit_on_misconfiguration

    if "--traceback" in sys.argv:  # Django's own option: the whole story, for a developer
        execute_from_command_line(sys.argv)
        return
    with exit_on_misconfiguration():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

"""`manage.py runsandbox`: the same as `python -m sandbox`, with the same options."""

from django.core.management.base import BaseCommand, CommandError

from sandbox.cli import add_arguments, settings_from_options
from sandbox.server import run
from sandbox.settings import SettingsError


class Command(BaseCommand):
    help = "Run the local integrator.io sandbox (see sandbox/README.md)."
    # The sandbox is a separate process that shares nothing with the service.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        add_arguments(parser)

    def handle(self, *args, **options) -> None:
        try:
            settings = settings_from_options(options)
        except SettingsError as exc:
            raise CommandError(str(exc)) from exc
        run(settings)

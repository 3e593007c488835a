from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from tenants.services import template_document_read, template_load


class Command(BaseCommand):
    help = (
        "Create or update an integration template from a JSON or YAML file. Slots and the "
        "settings schema are validated; nothing is saved when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            document = template_document_read(path=file)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except (ValueError, yaml.YAMLError) as error:
            raise CommandError(f"{file} is not valid JSON/YAML: {error}") from None
        try:
            template, created = template_load(document=document)
        except ApplicationError as error:
            problems = [f"  {path}: {m}" for path, ms in error.fields.items() for m in ms]
            raise CommandError("\n".join([error.message, *problems])) from None
        action = "Created" if created else "Updated"
        self.stdout.write(f"{action} template {template.key!r} v{template.version}.")

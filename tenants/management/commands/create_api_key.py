from django.core.management.base import BaseCommand, CommandError
from rest_framework_api_key.models import APIKey


class Command(BaseCommand):
    help = (
        "Create an API key for the host app and print it. The key is stored hashed and cannot "
        "be shown again; revoke it in the admin (API keys)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the key is for, e.g. 'host-app production'.")

    def handle(self, *args, name, **options):
        name = name.strip()
        if not name or len(name) > 50:
            raise CommandError("NAME must be 1 to 50 characters.")
        api_key, key = APIKey.objects.create_key(name=name)
        self.stderr.write(
            f"Created API key {api_key.prefix!r} named {name!r}. Store it now: it is not "
            "shown again. Send it as 'Authorization: Bearer <key>'."
        )
        self.stdout.write(key)

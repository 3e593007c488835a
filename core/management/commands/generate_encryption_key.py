"""`manage.py generate_encryption_key`: a new key for ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand

from core.encryption import key_new


class Command(BaseCommand):
    help = "Print a new random key for ENCRYPTION_KEYS (as id:key, with the id you choose)."

    def add_arguments(self, parser):
        parser.add_argument("--id", default="k1", help="the key's id (default k1)")

    def handle(self, *args, **options):
        self.stdout.write(f"{options['id']}:{key_new()}")

"""`manage.py deployment_rekey --yes`: a new identity for a database restored from another
deployment (see core.deployment.deployment_rekey and the README)."""

from django.core.management.base import BaseCommand, CommandError

from core.deployment import deployment_identity, deployment_rekey


class Command(BaseCommand):
    help = (
        "Give this database a new deployment identity. Only for a copy restored from another "
        "deployment's database: afterwards, what the old identity marks in integrator.io is "
        "no longer this deployment's to change or delete. Restart every process afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="really do it")

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError(
                f"This deployment is {deployment_identity()}. Rekeying is only for a database "
                "restored from another deployment; run again with --yes to do it."
            )
        old, new = deployment_rekey()
        self.stdout.write(
            f"Deployment identity changed from {old} to {new}. Restart the web processes, the "
            "workers and beat now."
        )

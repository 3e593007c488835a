from django.core.management.base import BaseCommand

from tenants.demo_seed import demo_seed


class Command(BaseCommand):
    help = "Create the demo data once (idempotent) and print what a newcomer needs to log in."

    def add_arguments(self, parser):
        parser.add_argument("--web-url", default="http://127.0.0.1:8000")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8100")

    def handle(self, *args, web_url, sandbox_url, **options):
        credentials = demo_seed()
        lines = [
            "",
            "Embedded integrations service (development)",
            f"  Service          {web_url}/",
            f"  Health           {web_url}/healthz   {web_url}/readyz",
            f"  Ops admin        {web_url}/admin/   login: {credentials.ops_username} / "
            f"{credentials.ops_password}",
            f"  Sandbox API      {sandbox_url}/v1   (integrator.io emulator)",
            f"  Host app API     {web_url}/api/v1/   docs: {web_url}/api/docs/",
            f"                   Authorization: Bearer {credentials.api_key}",
            f"                   template: {credentials.template_key}",
            "",
        ]
        self.stdout.write("\n".join(lines))

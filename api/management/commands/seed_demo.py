import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from integrator import errors as remote
from tenants.demo_seed import demo_seed, demo_seed_eu


def _demo_api_key_make(name: str) -> str:
    # The demo's host app may do everything the API offers.
    return api_key_create(name=name, scopes=ALL_SCOPES)[1]


class Command(BaseCommand):
    help = "Create the demo data once (idempotent) and print what a newcomer needs to log in."

    def add_arguments(self, parser):
        parser.add_argument("--web-url", default="http://127.0.0.1:8000")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8100")
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Wait this long for the sandbox to answer (the demo template's first version "
            "is published with a snapshot of its integration there), then as long for the web "
            "server at --web-url, so that the banner is printed once its addresses answer.",
        )
        parser.add_argument(
            "--eu",
            action="store_true",
            help="Also a second integrator.io account in the EU region (the sandbox's, at "
            "INTEGRATOR_EU_API_URL) with the demo template on it as shop-to-erp-eu.",
        )

    def handle(self, *args, web_url, sandbox_url, wait, eu=False, **options):
        try:
            credentials = demo_seed(api_key_make=_demo_api_key_make, wait_seconds=wait)
            eu_template = demo_seed_eu(wait_seconds=wait) if eu else None
        except remote.IntegratorError as error:
            raise CommandError(
                f"The demo template integration could not be read from integrator.io "
                f"(INTEGRATOR_API_URL): {error}. Is the sandbox running and seeded?"
            ) from None
        # What the service runs with: `make run` writes DEBUG=1, and DEBUG=0 (the environment
        # or .env) gives production's settings on the same processes.
        mode = "development: DEBUG=1" if settings.DEBUG else "production settings: DEBUG=0"
        lines = [
            "",
            f"Embedded integrations service ({mode})",
            f"  Service          {web_url}/",
            f"  Health           {web_url}/healthz   {web_url}/readyz",
            f"  Ops admin        {web_url}/admin/   login: {credentials.ops_username} / "
            f"{credentials.ops_password}",
            f"  Sandbox API      {sandbox_url}/v1   (integrator.io emulator)",
            f"  Host app API     {web_url}/api/v1/   docs: {web_url}/api/docs/",
            f"                   Authorization: Bearer {credentials.api_key}",
            f"                   template: {credentials.template_key}",
            f"                   OAuth 2 template: {credentials.oauth_template_key} (its CRM "
            "connects with the sandbox's demo CRM's consent page)",
        ]
        if eu_template is not None:
            lines.append(
                f"                   EU template: {eu_template.key} (integrator.io account "
                f"{eu_template.account.key}, region eu: {sandbox_url}/eu/v1), with "
                '"region": "eu" to refuse any other'
            )
        if credentials.sandbox_moved_from:
            lines.append(_sandbox_moved_note(credentials.sandbox_moved_from))
        if settings.METRICS_TOKEN:
            lines.append(
                f"  Metrics          {web_url}/metrics   "
                f"Authorization: Bearer {settings.METRICS_TOKEN}"
            )
        if wait and not _web_server_answers(web_url, wait_seconds=wait):
            lines.append(
                f"  Note             the web server did not answer at {web_url}/healthz within "
                f"{wait:g} s: see its lines above"
            )
        lines.append("")
        self.stdout.write("\n".join(lines))


def _web_server_answers(web_url: str, *, wait_seconds: float) -> bool:
    """Whether the web server answers /healthz within `wait_seconds`. `make run` starts it
    beside this command, and a newcomer who ran the banner's first curl before it listened
    got "connection refused"."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            if requests.get(f"{web_url}/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)


def _sandbox_moved_note(made_with: str) -> str:
    port = urlsplit(made_with).port
    again = f"SANDBOX_PORT={port} make run" if port else "make run with the sandbox there"
    return (
        f"  Note             the demo data was made with the sandbox at {made_with}: the CRM\n"
        "                   template's consent page and the demo tenants' connections\n"
        "                   point there, where this sandbox is not. Start\n"
        f"                   {again} again, or start afresh with `rm -rf var`\n"
        "                   (new demo data, ops login and API key)."
    )

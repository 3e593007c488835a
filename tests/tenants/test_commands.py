"""The demo seed (`manage.py seed_demo`; create_api_key is tested in tests/api)."""

import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework_api_key.models import APIKey

from api.scopes import ALL_SCOPES
from tenants.models import IntegrationTemplate

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_the_template_and_prints_the_same_key_each_run(
    settings, tmp_path, capsys, sandbox_clean
):
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert first == second
    assert "/metrics" not in first  # no METRICS_TOKEN, no metrics line (/metrics is a 404)
    settings.METRICS_TOKEN = "metrics-token-for-the-banner"
    call_command("seed_demo")
    assert "/metrics   Authorization: Bearer metrics-token-for-the-banner" in (
        capsys.readouterr().out
    )
    saved = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert f"Authorization: Bearer {saved['api_key']}" in first
    assert APIKey.objects.count() == 1
    assert APIKey.objects.is_valid(saved["api_key"])
    # The demo's host app may do everything.
    assert APIKey.objects.get().grant.scopes == list(ALL_SCOPES)
    # Both demo templates: shop -> ERP, and CRM -> ERP with its OAuth 2 slot.
    assert sorted(IntegrationTemplate.objects.values_list("key", flat=True)) == [
        "crm-to-erp",
        "shop-to-erp",
    ]
    # Published with the snapshot of the sandbox's template, so that it can be rolled out from.
    version = IntegrationTemplate.objects.get(key="shop-to-erp").versions.get()
    assert [flow["_id"] for flow in version.snapshot["flows"]] == sandbox_clean.control.seed()[
        "flowIds"
    ]
    # A revoked demo key is replaced by a new one on the next run.
    APIKey.objects.update(revoked=True)
    call_command("seed_demo")
    assert saved["api_key"] not in capsys.readouterr().out
    assert APIKey.objects.filter(revoked=False).count() == 1


def test_seed_demo_says_when_the_sandbox_does_not_answer(settings, tmp_path, sandbox_clean):
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token  # reset: no template integration
    with pytest.raises(CommandError, match="Is the sandbox running and seeded"):
        call_command("seed_demo", "--wait", "0.2")
    assert not IntegrationTemplate.objects.exists()


def test_the_banner_says_whether_the_service_runs_with_debug_or_production_settings(
    settings, tmp_path, capsys, sandbox_clean
):
    """It said "(development)" with DEBUG=0 too (`DEBUG=0 make run`), where the service runs
    with production's settings: it says which."""
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    settings.DEBUG = False
    call_command("seed_demo")
    production = capsys.readouterr().out
    settings.DEBUG = True
    call_command("seed_demo")
    development = capsys.readouterr().out

    assert "Embedded integrations service (production settings: DEBUG=0)" in production
    assert "development" not in production
    assert "Embedded integrations service (development: DEBUG=1)" in development


def test_a_later_run_with_the_sandbox_elsewhere_says_the_demo_data_points_at_the_first(
    settings, tmp_path, capsys, sandbox_clean
):
    """`PORT=9000 SANDBOX_PORT=9100 make run` after a first run on 8100: the demo templates were
    loaded once, with the sandbox's address of that first run (the CRM's consent and token
    pages, the form's help), and so were the demo tenants' connections; "Connect with CRM"
    opened a page on the old port, where nothing answered, and nothing said why. The banner
    says where the demo data points and what to do."""
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    settings.SANDBOX_PUBLIC_URL = "http://127.0.0.1:8100"
    call_command("seed_demo")
    assert "demo data" not in capsys.readouterr().out  # the first run: nothing to say
    call_command("seed_demo")
    assert "demo data" not in capsys.readouterr().out  # the same address again

    settings.SANDBOX_PUBLIC_URL = "http://127.0.0.1:9100"
    call_command("seed_demo")
    banner = capsys.readouterr().out

    assert "the demo data was made with the sandbox at http://127.0.0.1:8100" in banner
    assert "SANDBOX_PORT=8100" in banner
    assert "rm -rf var" in banner
    # Nothing was changed meanwhile: the first run's address is still the one remembered.
    settings.SANDBOX_PUBLIC_URL = "http://127.0.0.1:8100"
    call_command("seed_demo")
    assert "demo data" not in capsys.readouterr().out


def test_the_banner_names_both_demo_templates(settings, tmp_path, capsys, sandbox_clean):
    """`make run` publishes crm-to-erp too (the README's OAuth 2 part of the tour), but the
    banner named shop-to-erp alone: a newcomer reading it did not know the second was there."""
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    call_command("seed_demo")
    banner = capsys.readouterr().out

    assert "template: shop-to-erp\n" in banner
    assert "OAuth 2 template: crm-to-erp" in banner


def test_the_demo_templates_help_follows_the_sandbox_to_another_port(
    settings, tmp_path, api, sandbox_clean
):
    """The demo templates were loaded with every `{sandbox_url}` filled with the first run's
    address, help texts too: after `SANDBOX_PORT=9100 make run`, the form and the API still
    told the customer to type the demo ERP's URL on the first run's port. Only what must be a
    real URL (an OAuth slot's consent and token pages, a slot's connection document) is filled
    on loading; the help keeps `{sandbox_url}`, filled with the address of the run showing it."""
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    settings.SANDBOX_PUBLIC_URL = "http://127.0.0.1:8100"
    call_command("seed_demo")

    settings.SANDBOX_PUBLIC_URL = "http://127.0.0.1:9100"
    body = api.get("/api/v1/templates/crm-to-erp").content.decode()
    crm = IntegrationTemplate.objects.get(key="crm-to-erp").versions.get().slots[0]

    assert "(in the demo: http://127.0.0.1:9100/_demo/erp)" in body
    assert "8100" not in body
    assert crm["oauth"]["authorize_url"] == "http://127.0.0.1:8100/_demo/crm/oauth/authorize"
    assert crm["connection"]["http"]["baseURI"] == "http://127.0.0.1:8100/_demo/crm"


@pytest.fixture
def demo_sandbox(settings, tmp_path, sandbox_clean):
    """The service pointed at a clean sandbox holding the demo templates' integrations."""
    settings.VAR_DIR = tmp_path
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    sandbox_clean.control.seed()
    sandbox_clean.control.seed_crm()
    return sandbox_clean


def _healthz_server_after(delay: float):
    """A web server whose /healthz answers 200, listening only `delay` seconds from now."""
    import http.server
    import socket
    import threading

    class Healthz(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers = []

    def start():
        server = http.server.HTTPServer(("127.0.0.1", port), Healthz)
        servers.append(server)
        server.serve_forever()

    threading.Timer(delay, start).start()
    return f"http://127.0.0.1:{port}", servers


def test_with_wait_the_banner_comes_once_the_web_server_answers(capsys, demo_sandbox):
    """`make run` starts the web server beside the seed: the banner came first, and its first
    curl met "connection refused"."""
    import time

    web_url, servers = _healthz_server_after(1.0)
    started = time.monotonic()
    try:
        call_command("seed_demo", "--web-url", web_url, "--wait", "10")
        took = time.monotonic() - started
    finally:
        while not servers:
            time.sleep(0.05)
        servers[0].shutdown()
    out = capsys.readouterr().out
    assert took >= 1.0
    assert f"Service          {web_url}/" in out and "did not answer" not in out


def test_the_banner_says_when_the_web_server_did_not_answer(capsys, demo_sandbox):
    call_command("seed_demo", "--web-url", "http://127.0.0.1:1", "--wait", "0.5")
    out = capsys.readouterr().out
    assert "the web server did not answer at http://127.0.0.1:1/healthz within 0.5 s" in out
    assert "Authorization: Bearer" in out  # the banner all the same

"""What the integration page says while a change the customer made waits out an
integrator.io outage (hours, at worst: the retry window), and that it says no more of it once
the job runs again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import Job, JobStatus

pytestmark = pytest.mark.django_db

WAITING = (
    "The integration platform is not answering at the moment. Your change is saved and is "
    "applied by itself once it is back: there is nothing you need to do."
)
WAITING_DE = "Die Integrationsplattform antwortet im Moment nicht."


def _token(client, path, action) -> str:
    html = client.get(path).content.decode()
    marker = 'name="form_token" value="'
    at = html.index(marker, html.index(f'action="{path}{action}')) + len(marker)
    return html[at:].split('"', 1)[0]


def _settings_saved(client, path) -> None:
    client.post(
        path + "settings",
        {
            "form_token": _token(client, path, "settings"),
            "setting-sync_interval_minutes": "30",
            "setting-order_statuses": ["paid"],
            "setting-erp_order_type": "invoice",
        },
    )


def _section(html: str, section: str) -> str:
    start = html.index(f'id="{section}"')
    return html[start : html.index("</section>", start)]


def _text(html: str) -> str:
    return " ".join(html.replace("<p>", " ").replace("</p>", " ").split())


def _outage_postpones_the_job(tenant) -> None:
    """What the runner writes when integrator.io is unavailable: queued, waiting, due later."""
    Job.objects.filter(tenant=tenant, status=JobStatus.QUEUED).update(
        waiting_since=timezone.now() - timedelta(minutes=3),
        outage_retries=4,
        error_code="circuit_open",
        due_at=timezone.now() + timedelta(minutes=5),
    )


def _integrator_io_is_back(tenant) -> None:
    Job.objects.filter(tenant=tenant, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING)


def test_a_settings_change_waiting_for_the_platform_says_it_is_applied_by_itself(
    acme, portal_link, client
):
    path = portal_link(acme).path
    _settings_saved(client, path)
    assert WAITING not in _text(client.get(path).content.decode())

    _outage_postpones_the_job(acme)
    settings = _section(client.get(path).content.decode(), "settings")
    assert "Applying your settings…" in settings
    assert WAITING in _text(settings)

    _integrator_io_is_back(acme)
    html = client.get(path).content.decode()
    assert "Applying your settings…" in html
    assert WAITING not in _text(html)


def test_a_flow_switch_waiting_for_the_platform_says_so_on_a_flows_page(acme, portal_link, client):
    path = portal_link(acme, sections=["flows"]).path
    body = {"form_token": _token(client, path, "flows"), "flow": "flows.stock", "enabled": "on"}
    client.post(path + "flows", body)

    _outage_postpones_the_job(acme)
    flows = _section(client.get(path).content.decode(), "flows")
    assert "Switching on…" in flows
    assert WAITING in _text(flows)

    _integrator_io_is_back(acme)
    html = client.get(path).content.decode()
    assert "Switching on…" in html
    assert WAITING not in _text(html)


def test_it_says_it_in_german_too(acme, portal_link, client):
    path = portal_link(acme, locale="de").path
    _settings_saved(client, path)

    _outage_postpones_the_job(acme)

    assert WAITING_DE in _text(client.get(path).content.decode())

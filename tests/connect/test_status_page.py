"""The status page and its JSON twin: the tenant's provisioning job, step by step."""

from django.utils import timezone

from provisioning.models import Job, JobKind, JobOrigin, JobStatus, JobStep, StepStatus
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus
from tests.connect.conftest import ACME_ORIGIN

STEPS = ["connections", "clone", "wire", "settings", "enable", "reconcile", "verify"]


def make_job(tenant, *, status=JobStatus.RUNNING, done=0, running=True, error=""):
    """A provision job whose first `done` steps succeeded and whose next step runs (or
    failed, when `error` is given)."""
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.FORM,
        status=status,
        due_at=timezone.now(),
        error_message=error,
    )
    for position, name in enumerate(STEPS):
        if position < done:
            step_status = StepStatus.SUCCEEDED
        elif position == done and error:
            step_status = StepStatus.FAILED
        elif position == done and running:
            step_status = StepStatus.RUNNING
        else:
            step_status = StepStatus.PENDING
        JobStep.objects.create(job=job, name=name, position=position, status=step_status)
    return job


def set_status(tenant, status, last_error=""):
    type(tenant).objects.filter(pk=tenant.pk).update(status=status, last_error=last_error)


def test_it_shows_the_steps_of_a_running_job(acme, issue_link, client):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, done=2)
    path = issue_link(acme, return_url=f"{ACME_ORIGIN}/settings/integrations").path + "status/"

    html = client.get(path).content.decode()

    assert "Setting up your integration" in html
    assert "Create your integration" in html and "Link it to your apps" in html
    # Every step in the customer's words (connect.selectors.STEP_LABELS), none of ours.
    assert "Apply the latest version of the integration" in html
    assert "Match the latest design" not in html and ">reconcile<" not in html
    assert html.count("step-succeeded") == 2
    assert html.count("step-running") == 1
    assert html.count("step-pending") == 4
    # Without scripts the page refreshes itself; the way back waits for the end.
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert 'id="progress-actions" hidden' in html


def test_the_json_twin_says_the_same(acme, issue_link, client):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, done=1)

    body = client.get(issue_link(acme).path + "status.json").json()

    assert body["state"] == "running"
    assert body["done"] is False
    assert [s["name"] for s in body["steps"]] == STEPS
    assert [s["status"] for s in body["steps"][:3]] == ["succeeded", "running", "pending"]
    assert body["steps"][1]["label"] == "Create your integration"
    assert set(body) == {"state", "done", "title", "detail", "steps"}


def test_a_job_waiting_out_an_integrator_outage_says_so_not_less_than_a_minute(
    acme, issue_link, client
):
    # The job was postponed because integrator.io is unavailable: it may wait for hours.
    set_status(acme, TenantStatus.PROVISIONING)
    job = make_job(acme, status=JobStatus.QUEUED, done=1, running=False)
    Job.objects.filter(pk=job.pk).update(waiting_since=timezone.now())
    link = issue_link(acme)

    body = client.get(link.path + "status.json").json()
    html = client.get(link.path + "status/").content.decode()

    assert body["state"] == "running" and body["done"] is False
    assert "less than a minute" not in body["detail"]
    assert "not answering at the moment" in body["detail"]
    assert "nothing you need to do" in body["detail"]
    assert "not answering at the moment" in html and "less than a minute" not in html


def test_a_queued_job_that_is_not_waiting_for_integrator_keeps_the_usual_words(
    acme, issue_link, client
):
    set_status(acme, TenantStatus.PROVISIONING)
    make_job(acme, status=JobStatus.QUEUED, done=0, running=False)

    body = client.get(issue_link(acme).path + "status.json").json()

    assert body["detail"] == "This usually takes less than a minute. You can keep this page open."


def test_when_active_it_offers_the_way_back(acme, issue_link, client):
    return_url = f"{ACME_ORIGIN}/settings/integrations?tab=connected"
    set_status(acme, TenantStatus.ACTIVE)
    make_job(acme, status=JobStatus.SUCCEEDED, done=6, running=False)

    response = client.get(issue_link(acme, return_url=return_url).path + "status/")
    html = response.content.decode()

    assert "Your integration is live" in html
    assert 'href="https://app.acme.test/settings/integrations?tab=connected"' in html
    assert 'target="_top"' in html
    assert "http-equiv" not in html
    assert 'id="progress-actions" hidden' not in html
    assert client.get(issue_link(acme).path + "status.json").json()["done"] is True


def test_when_failed_it_says_why(acme, issue_link, client):
    set_status(acme, TenantStatus.FAILED, "clone failed")
    make_job(
        acme,
        status=JobStatus.FAILED,
        done=1,
        error="integrator.io refused the clone: the template integration was not found.",
    )

    html = client.get(issue_link(acme).path + "status/").content.decode()

    assert "We could not finish the setup" in html
    assert "stopped at “Create your integration”" in html
    # Nothing here starts it again: the page does not send the person looking for a way to.
    assert "there is nothing more for you to enter" in html
    assert "try again" not in html.lower()
    assert html.count("step-failed") == 1
    # The operators' message (it names integrator.io) is for the admin and the API only.
    assert "integrator.io" not in html


def test_while_credentials_are_missing_it_leads_back_to_the_form(acme, issue_link, client):
    path = issue_link(acme).path

    html = client.get(path + "status/").content.decode()

    assert "Waiting for your credentials" in html
    assert f'href="{path}"' in html


def test_a_return_url_no_longer_allowed_is_not_offered(acme, issue_link, client):
    issued = issue_link(acme, return_url=f"{ACME_ORIGIN}/back")
    set_status(acme, TenantStatus.ACTIVE)
    type(acme).objects.filter(pk=acme.pk).update(allowed_origins=["https://new.acme.test"])

    html = client.get(issued.path + "status/").content.decode()

    assert f"{ACME_ORIGIN}/back" not in html
    assert "You can close this window now." in html


def test_inside_the_host_apps_frame_it_does_not_ask_to_close_the_window(acme, issue_link, client):
    # In an iframe, "this window" is the host app's own tab.
    set_status(acme, TenantStatus.ACTIVE)
    path = issue_link(acme).path + "status/"

    framed = client.get(path, headers={"sec-fetch-dest": "iframe"}).content.decode()
    german = client.get(
        path, headers={"sec-fetch-dest": "iframe", "accept-language": "de"}
    ).content.decode()
    alone = client.get(path, headers={"sec-fetch-dest": "document"}).content.decode()

    assert "You can close this window now." not in framed
    assert "You are all set: there is nothing more to do here." in framed
    assert "Alles erledigt: Hier ist nichts mehr zu tun." in german
    assert "You can close this window now." in alone


def test_it_shows_only_its_own_tenants_job(acme, globex, issue_link, client):
    set_status(globex, TenantStatus.FAILED)
    make_job(globex, status=JobStatus.FAILED, done=2, error="globex-only error")

    body = client.get(issue_link(acme).path + "status.json").json()

    assert body["state"] == "waiting"
    assert body["steps"] == []
    assert "globex" not in str(body)


def test_a_live_integration_with_a_failed_connection_asks_to_connect_it_again(
    acme, issue_link, client
):
    # The CRM's access withdrawn (or a key revoked) after setup: the check fails the slot and
    # degrades the tenant. The page must not say "everything is connected" beside it.
    set_status(acme, TenantStatus.DEGRADED, "Connection 'shop' failed its last check")
    make_job(acme, status=JobStatus.SUCCEEDED, done=6, running=False)
    connections = TenantConnection.objects.filter(tenant=acme)
    connections.filter(slot_key="shop").update(status=ConnectionStatus.FAILED)
    connections.filter(slot_key="erp").update(status=ConnectionStatus.OK)
    path = issue_link(acme).path

    html = client.get(path + "status/").content.decode()
    body = client.get(path + "status.json").json()

    assert "Everything is connected" not in html
    assert "Shop is not working at the moment. Connect it again" in html
    assert f'<a class="button button-primary" href="{path}">Connect again</a>' in html
    assert body["detail"].startswith("Shop is not working")
    german = client.get(path + "status/", headers={"accept-language": "de"}).content.decode()
    assert (
        '<span lang="en">Shop</span> funktioniert gerade nicht. Verbinden Sie es erneut' in german
    )
    assert ">Erneut verbinden</a>" in german
    # Something is left to do: the page does not also say that the window may be closed.
    assert "You can close this window now." not in html
    assert "Sie können dieses Fenster jetzt schließen." not in german

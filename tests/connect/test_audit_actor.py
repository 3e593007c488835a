"""The end customer's changes through a credential form are recorded in the audit log with the
connect link they came through as the actor, and never the credentials."""

from audit.models import AuditEvent
from tests.connect.test_submit import WRONG_KEY, shop_values


def test_a_submission_is_recorded_as_the_links_and_without_the_key(
    acme, issue_link, pages, integrator
):
    issued = issue_link(acme)
    key = integrator.demo_keys["shop"]

    response = pages.submit(issued.path, "shop", **shop_values(integrator, key))

    assert response.status_code == 303
    [event] = AuditEvent.objects.filter(action="connection.submit")
    assert (event.actor_type, event.actor_id, event.actor_name) == (
        "connect_link",
        str(issued.link.pk),
        "acme",
    )
    assert (event.target_type, event.tenant) == ("tenantconnection", "acme")
    assert event.changes["status"]["after"] == "ok"
    assert event.request_id
    assert key not in str(event.changes)


def test_a_refused_submission_is_recorded_without_the_key(acme, issue_link, pages, integrator):
    issued = issue_link(acme)

    pages.submit(issued.path, "shop", **shop_values(integrator, WRONG_KEY))

    [event] = AuditEvent.objects.filter(action="connection.submit_failed")
    assert (event.actor_type, event.actor_id) == ("connect_link", str(issued.link.pk))
    assert event.changes["status"] == {"before": "missing", "after": "failed"}
    assert WRONG_KEY not in str(event.changes)

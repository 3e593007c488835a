"""The deployment's identity: written once, shown where an operator looks, changed only by
an explicit rekey."""

import pytest
from django.core.management import CommandError, call_command

from core.deployment import deployment_cache_clear, deployment_current, identity_is_valid
from core.models import Deployment

pytestmark = pytest.mark.django_db


@pytest.fixture
def restore_identity():
    """A test that rekeys puts the session's identity back: the worker's namespace uses it."""
    original = Deployment.objects.get(pk=1)
    yield
    Deployment.objects.filter(pk=1).update(identity=original.identity, rekeyed_from="")
    deployment_cache_clear()
    deployment_current()


def test_the_migration_wrote_one_identity():
    [deployment] = Deployment.objects.all()
    assert identity_is_valid(deployment.identity)
    assert deployment_current().identity == deployment.identity


def test_it_is_shown_by_readyz_the_api_and_the_admin(client, admin_client, host_key):
    identity = deployment_current().identity
    assert client.get("/readyz").json()["deployment"] == identity
    root = client.get("/api/v1/", HTTP_AUTHORIZATION=f"Api-Key {host_key}").json()
    assert root["deployment"]["identity"] == identity
    assert root["api_version"] == "v1"
    assert f"deployment {identity}" in admin_client.get("/admin/").content.decode()


def test_a_rekey_is_recorded_in_the_audit_log(restore_identity):
    """From then on the deployment disowns what the old identity marks in integrator.io: the
    audit log says who did it, and when, from which identity to which."""
    from audit.models import AuditEvent

    before = deployment_current().identity

    call_command("deployment_rekey", "--yes")

    [event] = AuditEvent.objects.filter(action="deployment.rekey")
    after = Deployment.objects.get().identity
    assert (event.target_type, event.target_id) == ("deployment", "1")
    assert event.changes == {"identity": {"before": before, "after": after}}
    assert AuditEvent.objects.count() == 1


def test_a_rekey_needs_to_be_confirmed(restore_identity):
    before = deployment_current().identity
    with pytest.raises(CommandError, match="--yes"):
        call_command("deployment_rekey")
    assert Deployment.objects.get().identity == before

    call_command("deployment_rekey", "--yes")

    rekeyed = Deployment.objects.get()
    assert rekeyed.identity != before and rekeyed.rekeyed_from == before
    assert deployment_current().identity == rekeyed.identity

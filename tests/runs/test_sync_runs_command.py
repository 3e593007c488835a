"""`manage.py sync_runs [--tenant X] [--check]`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from runs.models import FlowRun
from tenants.models import TenantStatus
from tests.fixtures.live_tenants import run_flow

pytestmark = pytest.mark.django_db


def _call(*args) -> str:
    out = StringIO()
    call_command("sync_runs", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_syncs_one_tenant_by_hand(account, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    run_flow(account, acme.flow_ids[0])
    run_flow(account, globex.flow_ids[0])

    output = _call("--tenant", "acme")

    assert output.startswith("acme: 1 new, 0 updated, ")
    assert list(FlowRun.objects.values_list("tenant_id", flat=True)) == [acme.pk]


def test_it_syncs_and_checks_every_live_tenant(account, make_tenant):
    make_tenant("acme")
    make_tenant("globex")
    make_tenant("waiting", status=TenantStatus.AWAITING_CREDENTIALS)
    account.control.force_ping_outcome(
        make_tenant("initech").connection_ids["erp"], ok=False, message="Expired key."
    )

    lines = _call("--check").splitlines()

    assert [line.split(":")[0] for line in lines] == ["acme", "globex", "initech"]
    assert "2 connection(s) pinged" in lines[0]
    assert lines[2].endswith("failing: erp")


def test_it_explains_what_it_cannot_sync(account, make_tenant):
    make_tenant("waiting", status=TenantStatus.PROVISIONING)

    with pytest.raises(CommandError, match="No tenant"):
        _call("--tenant", "nobody")
    with pytest.raises(CommandError, match="provisioning"):
        _call("--tenant", "waiting")


def test_it_fails_loudly_when_a_sync_fails(account, make_tenant):
    make_tenant("acme")
    account.control.inject_fault("error", path="/v1/jobs", method="GET", status=500)

    with pytest.raises(CommandError, match="1 tenant"):
        _call()


def test_it_runs_one_cycle_of_the_account_sync(account, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    run_flow(account, acme.flow_ids[0])
    run_flow(account, globex.flow_ids[0])
    run_flow(account, account.control.seed()["flowIds"][0])  # the template's: no tenant's

    output = _call("--account")

    assert output.startswith("account default: 2 new, 0 updated, 1 job(s) of no tenant, ")
    assert FlowRun.objects.count() == 2
    with pytest.raises(CommandError, match="alone"):
        _call("--account", "--check")


def test_it_says_so_when_no_tenant_is_live(account, make_tenant):
    # It printed nothing at all: ops could not tell "nothing to sync" from a command that
    # had not run.
    make_tenant("waiting", status=TenantStatus.AWAITING_CREDENTIALS)

    output = _call()

    assert "No live tenant" in output
    assert "active or degraded" in output


def test_an_unknown_account_is_named_as_load_template_names_it():
    """`--account nope` printed "account nope: 0 new, 0 updated, 0 job(s) of no tenant, 0
    call(s); FAILED: no such integrator.io account", counts of a sync that never was."""
    with pytest.raises(CommandError) as refused:
        _call("--account", "nope")

    assert str(refused.value) == "No integrator.io account 'nope' (admin: integrator.io accounts)."

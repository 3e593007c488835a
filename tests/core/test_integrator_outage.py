"""The deployment's circuit breaker as people and the host app see it: webhooks once per
outage, /readyz degraded (never unready), the admin banner, and the API's status."""

import time
import uuid

import pytest

from core.accounts import integrator_account_default, integrator_account_save
from core.integrator_client import build_integrator_client, rate_limit_redis
from core.integrator_outage import integrator_breaker
from core.models import IntegratorAccount
from webhooks.models import Event, EventType
from webhooks.tasks import webhook_deliveries_sweep


@pytest.fixture
def breaker(db, settings):
    # A token of its own: the breaker's key is per token, so no other test shares it.
    settings.INTEGRATOR_API_TOKEN = f"outage-test-{uuid.uuid4().hex}"
    settings.INTEGRATOR_BREAKER_FAILURES = 2
    settings.INTEGRATOR_BREAKER_PROBE_SECONDS = 60
    breaker = integrator_breaker(rate_limit_redis(), integrator_account_default())
    yield breaker
    breaker.reset()


def open_it(breaker):
    for _ in range(2):
        breaker.record_failure(breaker.admit())


def close_it(breaker):
    # Past the probe interval: move the stored probe time back instead of sleeping.
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")
    breaker.record_success(breaker.admit())


def test_each_outage_records_one_unavailable_and_one_recovered_event(breaker):
    open_it(breaker)
    open_it(breaker)  # more failures of the same outage
    close_it(breaker)
    events = list(Event.objects.order_by("created_at"))
    assert [e.event_type for e in events] == [
        EventType.INTEGRATOR_UNAVAILABLE,
        EventType.INTEGRATOR_RECOVERED,
    ]
    assert events[0].data["episode"] == events[1].data["episode"]
    assert events[0].tenant is None
    default = integrator_account_default()
    assert events[0].data["account"] == {
        "key": default.key,
        "name": default.name,
        "region": default.region,
    }
    open_it(breaker)  # a new outage, a new episode
    assert Event.objects.filter(event_type=EventType.INTEGRATOR_UNAVAILABLE).count() == 2


def test_the_same_episode_reported_twice_is_one_event(breaker):
    from core.integrator_outage import integrator_availability_changed

    open_it(breaker)
    event = Event.objects.get()
    integrator_availability_changed.send(
        sender=None,
        change="unavailable",
        episode=event.data["episode"],
        at=None,
        failures=2,
        account=event.data["account"]["key"],
    )
    assert Event.objects.count() == 1


def test_an_outage_redis_forgot_still_ends_with_one_recovered_event(breaker):
    from webhooks.tasks import webhook_deliveries_sweep

    open_it(breaker)
    webhook_deliveries_sweep()  # still open: nothing is over
    assert not Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED).exists()
    # Redis restarts without persistence: the open breaker, and its episode, are gone; it
    # starts closed, so it never closes, and would never announce the recovery.
    breaker.reset()

    webhook_deliveries_sweep()
    webhook_deliveries_sweep()  # every sweep looks again; the episode is closed once

    unavailable = Event.objects.get(event_type=EventType.INTEGRATOR_UNAVAILABLE)
    recovered = Event.objects.get(event_type=EventType.INTEGRATOR_RECOVERED)
    assert recovered.data["episode"] == unavailable.data["episode"]
    assert recovered.data["account"] == unavailable.data["account"]
    assert recovered.tenant is None


def test_a_normally_closed_outage_gets_no_second_recovered_event(breaker):
    from webhooks.tasks import webhook_deliveries_sweep

    open_it(breaker)
    close_it(breaker)
    webhook_deliveries_sweep()
    open_it(breaker)  # a new outage, open: not over
    webhook_deliveries_sweep()

    assert Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED).count() == 1
    assert Event.objects.filter(event_type=EventType.INTEGRATOR_UNAVAILABLE).count() == 2


def test_each_accounts_outage_is_its_own_event_naming_that_account(breaker, settings):
    eu = integrator_account_save(key="eu-outage", name="EU", region="eu", token="eu-outage-token")
    eu_breaker = integrator_breaker(rate_limit_redis(), eu)
    try:
        open_it(breaker)
        open_it(eu_breaker)
    finally:
        eu_breaker.reset()
    accounts = sorted(e.data["account"]["key"] for e in Event.objects.all())
    assert accounts == sorted([integrator_account_default().key, "eu-outage"])
    [eu_event] = [e for e in Event.objects.all() if e.data["account"]["key"] == "eu-outage"]
    assert eu_event.data["account"] == {"key": "eu-outage", "name": "EU", "region": "eu"}
    assert "eu-outage-token" not in str(eu_event.data)


def test_an_open_breaker_fails_calls_fast_through_the_configured_client(breaker):
    open_it(breaker)
    from integrator import CircuitOpenError

    with (
        build_integrator_client(account=integrator_account_default()) as client,
        pytest.raises(CircuitOpenError) as refused,
    ):
        client.get_token_info()
    assert refused.value.retryable
    assert 0 < refused.value.retry_after <= 60


def test_readyz_is_degraded_not_unready_while_open(breaker, client):
    open_it(breaker)
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["integrator_api"]["status"] == "degraded"
    assert body["integrator"]["state"] == "open"
    assert body["integrator"]["next_probe_at"]


def test_the_api_and_the_admin_show_the_state(breaker, api, admin_client):
    assert api.get("/api/v1/integrator/status").json()["state"] == "closed"
    assert "integrator.io has been failing" not in admin_client.get("/admin/").content.decode()
    open_it(breaker)
    status = api.get("/api/v1/integrator/status").json()
    assert status["state"] == "open"
    assert status["failures"] == 2
    assert status["episode"]
    assert api.get("/api/v1/").json()["integrator"]["state"] == "open"
    page = admin_client.get("/admin/").content.decode()
    assert "integrator.io has been failing since" in page
    assert "circuit breaker open" in page


def test_the_banner_says_since_when_integrator_io_fails_not_since_its_last_probe(
    breaker, admin_client
):
    """Each failed probe reopens the breaker, which moves its `since`: the banner read "open
    since" the last probe, ten seconds ago at most, however long the outage had lasted."""
    from datetime import UTC, datetime, timedelta

    open_it(breaker)
    began = datetime.now(tz=UTC) - timedelta(minutes=20)
    rate_limit_redis().hset(breaker.key, "opened_at", f"{began.timestamp():.6f}")
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")
    breaker.record_failure(breaker.admit())  # the probe fails: reopened now

    page = admin_client.get("/admin/").content.decode()

    assert f"integrator.io has been failing since {began:%H:%M:%S} UTC" in page
    assert "circuit breaker open, 3 failed calls" in page


def test_the_banner_names_each_failing_account_when_there_are_several(breaker, admin_client):
    # Only one account failing: the banner must say which, or ops read the others (and the
    # default's tenants) as held too.
    eu = integrator_account_save(key="eu-banner", name="EU", region="eu", token="eu-banner-token")
    eu_breaker = integrator_breaker(rate_limit_redis(), eu)
    try:
        open_it(eu_breaker)
        page = admin_client.get("/admin/").content.decode()
        assert "integrator.io account EU (eu-banner, eu) has been failing since" in page
        assert "Default account" not in page
        open_it(breaker)
        page = admin_client.get("/admin/").content.decode()
        assert "integrator.io account EU (eu-banner, eu) has been failing since" in page
        assert "integrator.io account Default account (default, us) has been failing" in page
    finally:
        eu_breaker.reset()


def test_the_banner_is_shown_only_to_signed_in_staff(breaker, client, django_user_model):
    open_it(breaker)
    customer = django_user_model.objects.create_user("cust", "c@example.com", "pw-for-tests")
    signed_in_customer = type(client)()
    signed_in_customer.force_login(customer)

    anonymous = client.get("/admin/login/").content.decode()
    not_staff = signed_in_customer.get("/admin/login/").content.decode()

    assert "admin/login" in anonymous and "has been failing" not in anonymous
    assert "has been failing" not in not_staff


def test_a_status_redis_cannot_give_is_logged_once_per_account_naming_it(db, caplog):
    """Redis down: each account's breaker state is unknown, and the one line for each says
    which account, so that the lines an operator reads are not the same line twice."""
    import logging

    import redis

    from core.integrator_outage import integrator_accounts_status

    integrator_account_save(key="eu-main", name="EU", region="eu", token="t" * 20)
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with caplog.at_level(logging.INFO, logger="core.integrator_outage"):
        statuses = integrator_accounts_status(gone)
    assert {s.key: s.status.state for s in statuses} == {"default": "unknown", "eu-main": "unknown"}
    lines = [r.getMessage() for r in caplog.records if "unknown" in r.getMessage()]
    assert len(lines) == len(set(lines)) == 2, lines
    assert any("default" in line for line in lines) and any("eu-main" in line for line in lines)


def test_the_breakers_transition_lines_name_the_account(breaker, caplog):
    """With several accounts, "circuit breaker closed -> open" must say whose."""
    import logging

    with caplog.at_level(logging.WARNING, logger="integrator.circuit_breaker"):
        open_it(breaker)
    [line] = [r.getMessage() for r in caplog.records if "-> open" in r.getMessage()]
    assert f"account {integrator_account_default().key}" in line, line


def _opened_in_a_transaction_that_rolls_back(breaker):
    # The call that makes the breaker open may be one a caller makes inside its own
    # transaction (saving a tenant's connection does), which the failure then rolls back.
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        open_it(breaker)
        raise RuntimeError("the caller's transaction rolls back")
    assert not Event.objects.exists()


def test_an_outage_whose_opening_was_rolled_back_is_announced_by_the_sweep(breaker):
    from webhooks.tasks import webhook_deliveries_sweep

    _opened_in_a_transaction_that_rolls_back(breaker)

    webhook_deliveries_sweep()
    webhook_deliveries_sweep()  # once

    [event] = Event.objects.all()
    assert event.event_type == EventType.INTEGRATOR_UNAVAILABLE
    assert event.data["episode"] == breaker.snapshot()[0].episode
    assert event.data["account"]["key"] == integrator_account_default().key
    assert event.data["failures"] == 2


def test_an_outage_whose_opening_was_rolled_back_is_announced_before_its_recovery(breaker):
    _opened_in_a_transaction_that_rolls_back(breaker)
    episode = breaker.snapshot()[0].episode

    close_it(breaker)  # before any sweep

    events = list(Event.objects.order_by("created_at"))
    assert [e.event_type for e in events] == [
        EventType.INTEGRATOR_UNAVAILABLE,
        EventType.INTEGRATOR_RECOVERED,
    ]
    assert {e.data["episode"] for e in events} == {episode}
    assert events[0].data["at"] < events[1].data["at"]


def test_the_banner_says_a_probe_is_due_rather_than_a_time_gone_by(breaker, admin_client):
    open_it(breaker)
    # The probe interval over, and no call since to be the probe (a quiet deployment).
    rate_limit_redis().hset(breaker.key, "next_probe_at", "1")

    page = admin_client.get("/admin/").content.decode()

    # It said "next probe at 00:00:01 UTC", a time long gone, as if the probe were stuck.
    assert "next probe at" not in page
    assert "no call has probed it since 00:00:01 UTC: the next call to it is the probe" in page


def test_the_banner_waits_for_beats_probe_before_saying_none_came(breaker, admin_client):
    """Beat's outage probe runs every probe interval, at a moment of its own: after the
    breaker's probe time it may come up to one interval later. In that time the banner said
    "no call has probed it since ...", the line that means beat or the workers are down, for
    part of every interval of every outage. It says the probe is due until beat had its turn."""
    open_it(breaker)
    seconds_ago = time.time() - 30  # within the 60 s interval of beat's probe
    rate_limit_redis().hset(breaker.key, "next_probe_at", f"{seconds_ago:.6f}")

    page = admin_client.get("/admin/").content.decode()

    assert "no call has probed it" not in page
    assert "its probe is due now" in page


def test_the_metrics_count_each_accounts_breaker_changes_under_its_key(breaker, client, settings):
    """An operator with US and EU accounts saw `eis_integrator_circuit_transitions_total` only
    by `to`: which account's breaker had opened, the counter could not say (the state gauge
    could)."""
    settings.METRICS_TOKEN = "metrics-token-for-tests-0123456789"
    key = f"eu-{uuid.uuid4().hex[:8]}"
    eu = integrator_account_save(key=key, name="EU", region="eu", token=f"{key}-token")
    eu_breaker = integrator_breaker(rate_limit_redis(), eu)
    try:
        open_it(eu_breaker)
    finally:
        eu_breaker.reset()

    text = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests-0123456789"
    ).content.decode()

    transitions = [
        line
        for line in text.splitlines()
        if line.startswith("eis_integrator_circuit_transitions_total{") and key in line
    ]
    # Each change shows at 0 from the breaker's first use in the process: the first outage
    # after a restart moves a series that was there, so increase() (the dashboard) sees it.
    assert sorted(transitions) == [
        f'eis_integrator_circuit_transitions_total{{account="{key}",to="closed"}} 0.0',
        f'eis_integrator_circuit_transitions_total{{account="{key}",to="half_open"}} 0.0',
        f'eis_integrator_circuit_transitions_total{{account="{key}",to="open"}} 1.0',
    ]


def test_an_account_deleted_while_failing_ends_its_outage_with_one_recovered_event(
    breaker, admin_client, api
):
    """Deleted in the admin while its breaker was open, the account's episode never ended:
    no `integrator.recovered`, and an account added again under its key inherited the open
    breaker (the banner, /readyz and the API showed the old outage). The episode ends with the
    account: recovered once, naming it, and its breaker starts anew."""
    eu = integrator_account_save(key="eu-gone", name="EU", region="eu", token="eu-gone-token")
    eu_breaker = integrator_breaker(rate_limit_redis(), eu)
    try:
        open_it(eu_breaker)
        episode = eu_breaker.snapshot()[0].episode

        response = admin_client.post(
            f"/admin/core/integratoraccount/{eu.pk}/delete/", {"post": "yes"}
        )

        assert response.status_code == 302
        assert not IntegratorAccount.objects.filter(key="eu-gone").exists()
        [recovered] = Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED)
        assert recovered.data["episode"] == episode
        assert recovered.data["account"] == {"key": "eu-gone", "name": "EU", "region": "eu"}
        assert not Event.objects.filter(
            event_type=EventType.INTEGRATOR_UNAVAILABLE, data__account__key="default"
        ).exists()
        assert "(eu-gone, eu) has been failing" not in admin_client.get("/admin/").content.decode()
        # Added again under the same key: a new account, its breaker closed.
        again = integrator_account_save(
            key="eu-gone", name="EU", region="eu", token="eu-gone-token"
        )
        assert integrator_breaker(rate_limit_redis(), again).snapshot()[0].state == "closed"
        webhook_deliveries_sweep()
        assert Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED).count() == 1
    finally:
        eu_breaker.reset()


def test_an_account_deleted_while_well_records_no_outage_event(breaker, admin_client):
    spare = integrator_account_save(key="spare-ok", name="Spare", region="eu", token="spare-tok")

    admin_client.post(f"/admin/core/integratoraccount/{spare.pk}/delete/", {"post": "yes"})

    assert not IntegratorAccount.objects.filter(key="spare-ok").exists()
    assert not Event.objects.exists()


def test_an_outage_of_an_account_deleted_otherwise_is_ended_by_the_sweep(breaker):
    """An account deleted while failing by another way than the admin (before the admin ended
    its episode, or from a shell): the sweep ends the episode, naming the account as its
    `integrator.unavailable` did, and never in the default account's name."""
    eu = integrator_account_save(key="eu-shell", name="EU", region="eu", token="eu-shell-token")
    eu_breaker = integrator_breaker(rate_limit_redis(), eu)
    try:
        open_it(eu_breaker)
        episode = eu_breaker.snapshot()[0].episode
        IntegratorAccount.objects.filter(key="eu-shell").delete()

        webhook_deliveries_sweep()
        webhook_deliveries_sweep()  # once
    finally:
        eu_breaker.reset()

    [recovered] = Event.objects.filter(event_type=EventType.INTEGRATOR_RECOVERED)
    assert recovered.data["episode"] == episode
    assert recovered.data["account"] == {"key": "eu-shell", "name": "EU", "region": "eu"}
    assert [e.data["account"]["key"] for e in Event.objects.all()] == ["eu-shell", "eu-shell"]

"""tenant_create, tenant_update and the guarded status transitions."""

import threading

import pytest
from django.db import connection

from tenants.connect_links import connect_link_create
from tenants.errors import TenantExists, TenantGone, TenantTransitionError
from tenants.models import Tenant, TenantConnection, TenantStatus
from tenants.services import (
    ALLOWED_TRANSITIONS,
    tenant_create,
    tenant_deprovision,
    tenant_transition,
    tenant_update,
)
from tests.fixtures.factories import TenantFactory

S = TenantStatus


@pytest.mark.django_db
class TestCreate:
    def test_it_creates_a_tenant_with_one_missing_connection_per_slot(self, template):
        tenant, created = tenant_create(external_id="t1", name="T1", template=template)
        assert created and tenant.status == S.AWAITING_CREDENTIALS
        rows = TenantConnection.objects.filter(tenant=tenant).order_by("slot_key")
        assert [(r.slot_key, r.status) for r in rows] == [("erp", "missing"), ("shop", "missing")]

    def test_it_returns_the_existing_tenant_for_equal_values(self, template):
        first, _ = tenant_create(
            external_id="t1", name="T1", template=template, settings={"store_id": "s"}
        )
        again, created = tenant_create(
            external_id="t1", name="T1", template=template, settings={"store_id": "s"}
        )
        assert not created and again.pk == first.pk

    def test_settings_and_origins_left_out_are_not_compared(self, template):
        # The customer's integration page (or the host's PATCH) changes the settings after
        # the tenant was registered: a host registering it again with its usual body, which
        # leaves them out, gets the tenant, not a 409.
        first, _ = tenant_create(
            external_id="t1", name="T1", template=template, allowed_origins=["https://a.b"]
        )
        tenant_update(tenant=first, settings_patch={"store_id": "changed"})

        again, created = tenant_create(external_id="t1", name="T1", template=template)

        assert not created and again.pk == first.pk
        assert again.settings == {"store_id": "changed"}
        assert again.allowed_origins == ["https://a.b"]

    def test_a_refusal_names_what_differs(self, template):
        tenant_create(external_id="t1", name="T1", template=template, settings={"store_id": "s"})

        with pytest.raises(TenantExists) as refused:
            tenant_create(
                external_id="t1", name="Other", template=template, settings={"store_id": "x"}
            )

        assert set(refused.value.fields) == {"name", "settings"}

    @pytest.mark.parametrize(
        "change",
        [{"name": "Other"}, {"settings": {"store_id": "x"}}, {"allowed_origins": ["https://a.b"]}],
    )
    def test_it_refuses_different_values(self, template, change):
        tenant_create(external_id="t1", name="T1", template=template)
        values = {"external_id": "t1", "name": "T1", "template": template, **change}
        with pytest.raises(TenantExists):
            tenant_create(**values)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_make_one_tenant(template):
    barrier = threading.Barrier(6)
    outcomes = []

    def create():
        barrier.wait()
        try:
            _, created = tenant_create(external_id="race", name="Race", template=template)
            outcomes.append(created)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False] * 5 + [True]
    assert Tenant.objects.filter(external_id="race").count() == 1
    assert TenantConnection.objects.filter(tenant__external_id="race").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_settings_patches_keep_both_changes(template):
    tenant = TenantFactory(template=template)
    barrier = threading.Barrier(2)

    def patch(values):
        barrier.wait()
        try:
            tenant_update(tenant=Tenant.objects.get(pk=tenant.pk), settings_patch=values)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=patch, args=({"store_id": "s1"},)),
        threading.Thread(target=patch, args=({"flows": {"stock": True}},)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    tenant.refresh_from_db()
    assert tenant.settings == {"store_id": "s1", "flows": {"stock": True}}


@pytest.mark.django_db
class TestTransitions:
    def test_it_follows_the_table(self, acme):
        before = acme.status_changed_at
        tenant_transition(tenant=acme, to=S.PROVISIONING)
        tenant_transition(tenant=acme, to=S.FAILED, error="clone failed: 422")
        acme.refresh_from_db()
        assert acme.status == S.FAILED
        assert acme.last_error == "clone failed: 422"
        assert acme.status_changed_at > before
        tenant_transition(tenant=acme, to=S.PROVISIONING)
        acme.refresh_from_db()
        assert acme.last_error == ""

    @pytest.mark.parametrize(
        ("start", "to"),
        [
            (S.AWAITING_CREDENTIALS, S.ACTIVE),
            (S.ACTIVE, S.AWAITING_CREDENTIALS),
            (S.DEPROVISIONED, S.PROVISIONING),
            (S.DEPROVISIONING, S.ACTIVE),
            (S.ACTIVE, S.ACTIVE),
        ],
    )
    def test_it_refuses_an_illegal_transition(self, acme, start, to):
        Tenant.objects.filter(pk=acme.pk).update(status=start)
        acme.refresh_from_db()
        with pytest.raises(TenantTransitionError) as caught:
            tenant_transition(tenant=acme, to=to)
        assert caught.value.code == "invalid_status_transition"
        acme.refresh_from_db()
        assert acme.status == start

    def test_it_refuses_a_transition_that_lost_a_race(self, acme):
        stale = Tenant.objects.get(pk=acme.pk)
        tenant_transition(tenant=acme, to=S.PROVISIONING)
        with pytest.raises(TenantTransitionError) as caught:
            tenant_transition(tenant=stale, to=S.DEPROVISIONING)
        assert caught.value.code == "status_changed_concurrently"
        acme.refresh_from_db()
        assert acme.status == S.PROVISIONING

    def test_every_status_has_an_entry(self):
        assert set(ALLOWED_TRANSITIONS) == set(S)
        assert ALLOWED_TRANSITIONS[S.DEPROVISIONED] == frozenset()

    def test_deprovisioning_is_repeatable_and_revokes_links(self, acme):
        link = connect_link_create(tenant=acme).link
        tenant_deprovision(tenant=acme)
        tenant_deprovision(tenant=acme)
        link.refresh_from_db()
        assert acme.status == S.DEPROVISIONING and link.revoked_at is not None
        with pytest.raises(TenantGone):
            tenant_update(tenant=acme, name="x")

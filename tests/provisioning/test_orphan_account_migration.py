"""Upgrading: orphans found before they recorded their account were found in the default
integrator.io account (the only one scanned then), and provisioning's migration 0006 says so."""

import pytest
from django.utils import timezone

from tests.fixtures.migrations import migrated_back

BEFORE = [("provisioning", "0005_outage_window")]
AFTER = [("provisioning", "0006_orphan_account")]


@pytest.mark.django_db(transaction=True)
def test_orphans_found_before_are_placed_on_the_default_account():
    with migrated_back(BEFORE) as (old, migrate):
        now = timezone.now()
        old.get_model("provisioning", "Orphan").objects.create(
            kind="integration",
            remote_id="65f0c2d4e6b1a8f0c2d4e6b1",
            reason="Its tenant does not exist.",
            first_seen_at=now,
            last_seen_at=now,
        )

        new = migrate(AFTER)

        default = new.get_model("core", "IntegratorAccount").objects.get(is_default=True)
        assert new.get_model("provisioning", "Orphan").objects.get().account_id == default.pk

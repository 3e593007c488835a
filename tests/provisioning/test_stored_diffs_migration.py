"""Upgrading: before plans masked a credential put by hand into a tenant's export or import
(an Authorization header's value, an api_key in a relativeURI, which integrator.io returns in
clear), drift episodes and reconcile steps kept those values in their stored diffs, shown by
the API and the admin; provisioning's migration 0010 masks them as a plan masks them now."""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import Drift, Job, JobStep
from tests.fixtures.factories import current_version
from tests.fixtures.migrations import migrated_back

BEFORE = [("provisioning", "0009_close_deprovisioned_drift")]
AFTER = [("provisioning", "0010_mask_stored_diffs")]

HEADERS = [
    {"name": "Authorization", "value": "Bearer s3cret-token"},
    {"name": "Accept", "value": "*/*"},
]
URI = "/orders?api_key=s3cret-key&status=open"


def _summary(after_headers, after_uri) -> dict:
    return {
        "change": "UpdateStep",
        "reason": "The export differs from version 1.0.0.",
        "diff": [["http.headers", [], after_headers], ["http.relativeURI", "/orders", after_uri]],
    }


@pytest.mark.django_db(transaction=True)
def test_credentials_in_stored_diffs_are_masked_and_the_rest_kept(acme):
    now = timezone.now()
    with migrated_back(BEFORE) as (_, migrate):
        episode = Drift.objects.create(
            tenant=acme,
            version=current_version(acme.template),
            found_at=now - timedelta(hours=1),
            last_seen_at=now,
            changes=[_summary(HEADERS, URI)],
        )
        job = Job.objects.create(tenant=acme, kind="repair", due_at=now)
        step = JobStep.objects.create(
            job=job,
            name="reconcile",
            position=1,
            output={"rounds": 1, "changes": [_summary(HEADERS, URI)], "changes_count": 1},
        )
        other = JobStep.objects.create(job=job, name="verify", position=2, output={"ok": True})

        migrate(AFTER)

        masked_headers = [{"name": "Authorization", "value": "******"}, HEADERS[1]]
        masked_uri = "/orders?api_key=******&status=open"
        assert Drift.objects.get(pk=episode.pk).changes == [_summary(masked_headers, masked_uri)]
        output = JobStep.objects.get(pk=step.pk).output
        assert output["changes"] == [_summary(masked_headers, masked_uri)]
        assert output["rounds"] == 1 and output["changes_count"] == 1
        assert JobStep.objects.get(pk=other.pk).output == {"ok": True}
        assert "s3cret" not in str(list(Drift.objects.values_list("changes", flat=True)))

        migrate(BEFORE)  # reversible: masking is not undone, nothing else changes
        assert "s3cret" not in str(JobStep.objects.get(pk=step.pk).output)

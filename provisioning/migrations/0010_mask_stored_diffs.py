"""Mask the credentials that stored diffs kept from before plans masked them: a value put by
hand into a tenant's export or import under a secret-looking header (`Authorization`,
`X-Api-Key`) or query parameter (`?api_key=`), which integrator.io returns in clear and which
drift episodes (`Drift.changes`) and reconcile steps (`JobStep.output["changes"]`) kept as
`Change.summary()` gave them. Each diff's before and after go through the masking a plan
applies now (provisioning.reconcile.changes.shown, a pure function: masking a masked value
changes nothing). Reversing it changes nothing: a masked secret is not brought back."""

from django.db import migrations

from provisioning.reconcile.changes import shown

_BATCH = 500


def _summaries_shown(summaries):
    """The summaries with each diff entry [field, before, after] masked; None if unchanged."""
    if not isinstance(summaries, list):
        return None
    result = []
    for summary in summaries:
        if isinstance(summary, dict) and isinstance(summary.get("diff"), list):
            diff = [
                [entry[0], shown(entry[1], name=str(entry[0])), shown(entry[2], name=str(entry[0]))]
                if isinstance(entry, list) and len(entry) == 3
                else entry
                for entry in summary["diff"]
            ]
            summary = {**summary, "diff": diff}
        result.append(summary)
    return result if result != summaries else None


def stored_diffs_mask(apps, schema_editor):
    Drift = apps.get_model("provisioning", "Drift")
    JobStep = apps.get_model("provisioning", "JobStep")
    episodes = []
    for episode in Drift.objects.only("pk", "changes").iterator(chunk_size=_BATCH):
        changes = _summaries_shown(episode.changes)
        if changes is not None:
            episode.changes = changes
            episodes.append(episode)
    Drift.objects.bulk_update(episodes, ["changes"], batch_size=_BATCH)
    steps = []
    for step in (
        JobStep.objects.filter(output__has_key="changes")
        .only("pk", "output")
        .iterator(chunk_size=_BATCH)
    ):
        changes = _summaries_shown(step.output.get("changes"))
        if changes is not None:
            step.output = {**step.output, "changes": changes}
            steps.append(step)
    JobStep.objects.bulk_update(steps, ["output"], batch_size=_BATCH)


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0009_close_deprovisioned_drift")]

    operations = [
        migrations.RunPython(stored_diffs_mask, migrations.RunPython.noop, elidable=True),
    ]

"""Every periodic task of runs and webhooks names a task the worker knows."""

from django.conf import settings

from config.celery import app


def test_the_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    ours = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if name.startswith(("runs-", "webhooks-"))
    }

    assert set(ours) == {"runs-sync-tick", "runs-check-tick", "webhooks-sweep", "webhooks-purge"}
    for entry in ours.values():
        assert entry["task"] in app.tasks
    assert ours["runs-sync-tick"]["schedule"] == settings.RUNS_SYNC_TICK_SECONDS

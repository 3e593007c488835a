"""Beat's safety net for rollouts names a task the worker knows, at the configured interval."""

from django.conf import settings

from config.celery import app


def test_the_rollouts_tick_is_scheduled_and_registered():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["rollouts-tick"]
    assert entry["task"] == "rollouts.tick" and entry["task"] in app.tasks
    assert "rollouts.advance" in app.tasks
    assert entry["schedule"] == settings.ROLLOUTS_TICK_SECONDS

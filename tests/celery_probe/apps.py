from django.apps import AppConfig


class CeleryProbeConfig(AppConfig):
    name = "tests.celery_probe"
    label = "celery_probe"

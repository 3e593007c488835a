from celery import shared_task

from tests.celery_probe.models import ProbeRow


@shared_task
def write_probe_row(label: str) -> None:
    ProbeRow.objects.get_or_create(label=label)

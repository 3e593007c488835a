from django.db import models


class ProbeRow(models.Model):
    """A row written by a task running in a real worker, so a test can see the task ran."""

    label = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.label

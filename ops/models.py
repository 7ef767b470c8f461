"""What operators look at: when the worker and beat last showed signs of life."""

from django.db import models


class Heartbeat(models.Model):
    """One row per component (`worker`, `beat`), updated in place; kept in the database because the
    web, the worker and beat are separate processes (and machines) that share nothing else."""

    component = models.CharField(max_length=32, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.component} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"

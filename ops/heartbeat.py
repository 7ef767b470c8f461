"""Liveness of the worker and beat, as the health endpoint reports it.

Beat sends the `ops.heartbeat` task every CELERY_BEAT_HEARTBEAT_SECONDS: the moment it publishes
one is beat's heartbeat (recorded by the publishing process, see `connect_signals`), the moment a
worker runs one is the worker's. So a worker that is alive but idle because beat is down shows
as alive until its last heartbeat ages, and beat shows alive even when no worker consumes.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat

TASK_NAME = "ops.heartbeat"
WORKER, BEAT = "worker", "beat"
# A component is alive if it showed up within this many heartbeat intervals.
GRACE_INTERVALS = 3


def heartbeat_record(component: str, *, at: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(component=component, defaults={"seen_at": at or timezone.now()})


def heartbeat_status() -> dict[str, dict]:
    """{component: {"alive": bool, "last_heartbeat": datetime | None}} for the worker and beat."""
    seen = dict(Heartbeat.objects.filter(component__in=[WORKER, BEAT]).values_list("component", "seen_at"))
    horizon = timezone.now() - timedelta(seconds=GRACE_INTERVALS * settings.CELERY_BEAT_HEARTBEAT_SECONDS)
    return {
        component: {"alive": seen.get(component) is not None and seen[component] >= horizon,
                    "last_heartbeat": seen.get(component)}
        for component in (WORKER, BEAT)
    }


def _on_publish(sender=None, **kwargs) -> None:
    if sender == TASK_NAME:
        heartbeat_record(BEAT)


def connect_signals() -> None:
    from celery.signals import before_task_publish

    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="ops.heartbeat.beat")

"""The Celery app. Without CELERY_BROKER_URL tasks run eagerly in-process (see settings)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credits_platform.settings.local")

app = Celery("credits_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "monthly-reset": {
        "task": "wallets.tasks.reset_monthly_allowances",
        "schedule": crontab(minute=0, hour=0, day_of_month=1),
    },
    "release-stale-holds": {
        "task": "wallets.tasks.release_stale_holds",
        "schedule": 60.0,
    },
}

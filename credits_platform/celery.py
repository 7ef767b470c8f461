"""The Celery app and beat's schedule. `make run` runs a worker with beat on a filesystem broker."""

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
    # Logs an error naming each wallet whose balance, row counter or holds disagree with its ledger.
    "verify-ledger": {
        "task": "wallets.tasks.verify_ledger",
        "schedule": crontab(minute=30, hour=3),
    },
    # Only tidies wallets nobody touches: a read or charge releases its own wallet's expired holds.
    "release-stale-holds": {
        "task": "wallets.tasks.release_stale_holds",
        "schedule": 60.0,
    },
    # Likewise: a read or charge of a wallet expires its own due grants; this tidies the rest.
    "expire-due-grants": {
        "task": "wallets.tasks.expire_due_grants",
        "schedule": 300.0,
    },
    # credits.expiring, once per grant, 7 days ahead.
    "announce-expiring-grants": {
        "task": "wallets.tasks.announce_expiring_grants",
        "schedule": 3600.0,
    },
    # Auto-recharges left in flight (a worker killed, a webhook lost): asks Stripe what became of them.
    "reconcile-recharges": {
        "task": "payments.tasks.reconcile_recharges",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Webhook retries that are due, and events whose on-commit enqueue never ran (outbox sweep).
    "deliver-due-webhooks": {
        "task": "notifications.tasks.deliver_due",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
}


@app.on_after_configure.connect
def schedule_heartbeat(sender, **kwargs):
    """Liveness of beat and the worker for GET /api/v1/health/ (ops/heartbeat.py). Added once the
    settings are loaded (they set the interval); a heartbeat nobody ran in time is worthless, so it
    expires."""
    from django.conf import settings

    seconds = settings.CELERY_BEAT_HEARTBEAT_SECONDS
    sender.add_periodic_task(seconds, sender.signature("ops.heartbeat", options={"expires": seconds}), name="heartbeat")

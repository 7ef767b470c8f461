"""GET /api/v1/health/ reports the worker and beat from their heartbeats, and never fails for them."""

from datetime import timedelta

import pytest
import time_machine
from celery.signals import before_task_publish
from django.utils import timezone

from credits_platform.celery import app
from ops.heartbeat import TASK_NAME, heartbeat_record
from ops.tasks import heartbeat

pytestmark = pytest.mark.django_db


def jobs(anon) -> dict:
    body = anon.get("/api/v1/health/").json()
    return {name: body[name]["alive"] for name in ("worker", "beat")}


def test_no_heartbeat_yet_is_reported_not_failed(anon):
    response = anon.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json()["worker"] == {"alive": False, "last_heartbeat": None}
    assert response.json()["beat"] == {"alive": False, "last_heartbeat": None}


def test_worker_is_alive_after_running_the_heartbeat_task(anon):
    heartbeat.apply()
    assert jobs(anon) == {"worker": True, "beat": False}


def test_beat_is_alive_after_publishing_the_heartbeat_task(anon):
    # What the publishing process (beat) does when it sends the task; a publish of another task does not count.
    before_task_publish.send(sender="wallets.tasks.release_stale_holds", body=None, headers={})
    assert jobs(anon) == {"worker": False, "beat": False}
    before_task_publish.send(sender=TASK_NAME, body=None, headers={})
    assert jobs(anon) == {"worker": False, "beat": True}


def test_heartbeats_age_out(anon, settings):
    settings.CELERY_BEAT_HEARTBEAT_SECONDS = 10
    heartbeat_record("worker")
    heartbeat_record("beat")
    assert jobs(anon) == {"worker": True, "beat": True}
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert jobs(anon) == {"worker": False, "beat": False}


def test_beat_schedules_the_heartbeat(settings):
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == TASK_NAME
    assert entry["schedule"] == settings.CELERY_BEAT_HEARTBEAT_SECONDS
    assert entry["options"]["expires"] == settings.CELERY_BEAT_HEARTBEAT_SECONDS


def test_health_needs_no_token(anon):
    response = anon.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "postgresql"

from celery import shared_task

from .heartbeat import TASK_NAME, WORKER, heartbeat_record


@shared_task(name=TASK_NAME, ignore_result=True)
def heartbeat() -> None:
    heartbeat_record(WORKER)

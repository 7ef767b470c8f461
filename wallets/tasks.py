"""Celery tasks: thin wrappers over services."""

from celery import shared_task

from .services import holds_release_stale


@shared_task(name="wallets.tasks.release_stale_holds")
def release_stale_holds() -> int:
    return holds_release_stale()

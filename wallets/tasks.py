"""Celery tasks: thin wrappers over services (idempotent, so redelivery is harmless)."""

from celery import shared_task

from common.periods import parse_period, period_of

from .cycle import reset_period
from .services import grants_announce_expiring, grants_expire_due, holds_release_stale


@shared_task(name="wallets.tasks.release_stale_holds")
def release_stale_holds() -> int:
    return holds_release_stale()


@shared_task(name="wallets.tasks.reset_monthly_allowances")
def reset_monthly_allowances(period: str | None = None) -> dict:
    report = reset_period(parse_period(period) if period else period_of())
    return {"period": report.period, "wallets_reset": report.wallets_reset, "seconds": round(report.seconds, 3)}


@shared_task(name="wallets.tasks.expire_due_grants")
def expire_due_grants() -> int:
    return grants_expire_due()


@shared_task(name="wallets.tasks.announce_expiring_grants")
def announce_expiring_grants() -> int:
    return grants_announce_expiring()

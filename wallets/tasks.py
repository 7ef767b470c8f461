"""Celery tasks: thin wrappers over services (idempotent, so redelivery is harmless)."""

import logging

from celery import shared_task
from django.db import transaction

from common.db_timeouts import use_job_timeouts
from common.metrics import record_reset

from common.periods import parse_period, period_of

from .services import reset_period
from .services import grants_announce_expiring, grants_expire_due, holds_release_stale
from .verification import ledger_problems

logger = logging.getLogger("credits.verify")


@shared_task(name="wallets.tasks.release_stale_holds")
def release_stale_holds() -> int:
    return holds_release_stale()


@shared_task(name="wallets.tasks.reset_monthly_allowances")
def reset_monthly_allowances(period: str | None = None) -> dict:
    report = reset_period(parse_period(period) if period else period_of())
    record_reset(report)
    return {"period": report.period, "wallets_reset": report.wallets_reset, "seconds": round(report.seconds, 3)}


@shared_task(name="wallets.tasks.verify_ledger")
def verify_ledger() -> int:
    """Daily: every wallet's invariants; each broken wallet is logged as an error by id."""
    with transaction.atomic():
        use_job_timeouts()  # a full scan, not a request
        problems = ledger_problems()
    for problem in problems:
        logger.error("ledger check failed for wallet %s: %s", problem.wallet_id, problem.message)
    if not problems:
        logger.info("ledger check passed for every wallet")
    return len(problems)


@shared_task(name="wallets.tasks.expire_due_grants")
def expire_due_grants() -> int:
    return grants_expire_due()


@shared_task(name="wallets.tasks.announce_expiring_grants")
def announce_expiring_grants() -> int:
    return grants_announce_expiring()

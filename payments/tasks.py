"""Celery tasks of money coming in: thin wrappers over `recharges` (idempotent: a redelivered task
finds its recharge claimed or ended and does nothing)."""

from celery import shared_task
from django.db import transaction

from .recharges import recharge_charge, recharges_reconcile


@shared_task(name="payments.tasks.charge_recharge")
def charge_recharge(recharge_id: int) -> None:
    recharge_charge(recharge_id=recharge_id)


@shared_task(name="payments.tasks.reconcile_recharges")
def reconcile_recharges() -> int:
    return recharges_reconcile()


def recharge_queue(sender, recharge_id: int, **kwargs) -> None:
    """wallets' recharge_started: ask for the payment once the recharge is committed."""
    transaction.on_commit(lambda: charge_recharge.delay(recharge_id))

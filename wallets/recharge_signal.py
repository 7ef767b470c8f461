"""Sent when a ledger write started an auto-recharge (kwargs: recharge_id), inside the writer's
transaction or just after its own. The app that takes payments (`payments`) listens and asks for the
payment once the row is committed; wallets never imports it."""

from django.dispatch import Signal

recharge_started = Signal()

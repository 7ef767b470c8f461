"""Sent after an outbox row (or a set of them) is written, inside the writer's transaction.

The delivery side (`notifications`) listens and enqueues its work on commit; `outbox` itself never
imports it, so the direction of dependency stays wallets -> outbox <- notifications.
"""

from django.dispatch import Signal

# kwargs: event_ids (list of ids; empty when a set-based statement wrote an unknown number of rows)
events_written = Signal()

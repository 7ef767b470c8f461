"""The low-balance alert's state machine: a pure function, decided by the ledger writer under the
wallet lock (so 20 concurrent charges crossing the threshold see one transition, not 20).

States: ARMED (nothing fired since the balance was last at or above the threshold), LOW
(`balance.low` fired), DEPLETED (`balance.depleted` fired: nothing left). An alert fires once per
crossing and re-arms when the available balance is back at or above the threshold.
"""

from outbox.events import EventType

ARMED, LOW, DEPLETED = 0, 1, 2


def alert_transition(state: int, *, available: int, threshold: int) -> tuple[int, list[str]]:
    """(new state, events to emit) when the available balance is `available`.

    A threshold of 0 turns `balance.low` off; `balance.depleted` still fires at 0.
    """
    if available <= 0:
        if state == DEPLETED:
            return DEPLETED, []
        events = [EventType.BALANCE_LOW] if state == ARMED and threshold > 0 else []
        return DEPLETED, [*events, EventType.BALANCE_DEPLETED]
    if available < threshold:
        if state == ARMED:
            return LOW, [EventType.BALANCE_LOW]
        return LOW, []  # from DEPLETED: some credits came back, still low; depleted re-arms silently
    if state != ARMED:
        return ARMED, [EventType.BALANCE_RECOVERED]
    return ARMED, []

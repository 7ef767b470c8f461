"""What a person reads about an event: the in-app title and message, and the email."""

from django.conf import settings

from outbox.events import EventType

# A failed auto-recharge is emailed too: the cardholder has to act (update the card), and the
# in-app notification waits for them to sign in.
EMAILED = (EventType.BALANCE_LOW, EventType.CREDITS_EXPIRING, EventType.AUTO_RECHARGE_FAILED)


def _when(value) -> str:
    return str(value or "")[:16].replace("T", " ") + (" UTC" if value else "")


def title_and_message(event_type: str, data: dict) -> tuple[str, str]:
    available, threshold, credits = data.get("available"), data.get("threshold"), data.get("credits")
    texts = {
        EventType.BALANCE_LOW: ("Your credit balance is low",
                                f"You have {available} credits left, below your alert threshold of {threshold}."),
        EventType.BALANCE_DEPLETED: ("You are out of credits",
                                     "Your balance is 0: premium actions need credits until you top up or your monthly credits arrive."),
        EventType.BALANCE_RECOVERED: ("Your credit balance is back up",
                                      f"You have {available} credits again (alert threshold {threshold})."),
        EventType.CREDITS_GRANTED: ("Credits added", f"{credits} {data.get('source', '')} credits were added: {data.get('reason', '')}."),
        EventType.CREDITS_EXPIRING: ("Credits expire soon",
                                     f"{credits} {data.get('source', '')} credits expire on {_when(data.get('expires_at'))}."),
        EventType.CREDITS_EXPIRED: ("Credits expired", f"{credits} {data.get('source', '')} credits expired."),
        EventType.TOP_UP_COMPLETED: ("Top-up completed", f"{credits} purchased credits were added to your wallet."),
        EventType.TOP_UP_REFUNDED: ("Top-up refunded", f"{credits} purchased credits were removed after a refund."),
        EventType.WALLET_LOCKED: ("Your wallet is locked",
                                  "Your credit wallet is locked. Please renew your subscription to continue."),
        EventType.WALLET_UNLOCKED: ("Your wallet is unlocked", "Your credit wallet is active again."),
        EventType.AUTO_RECHARGE_SUCCEEDED: ("Auto-recharge succeeded", f"{credits} credits were bought automatically."),
        EventType.AUTO_RECHARGE_FAILED: (
            "Auto-recharge failed",
            f"Buying {credits} credits automatically failed ({data.get('reason') or 'declined'}) and auto-recharge "
            f"was turned off. Update your card and turn it on again: {settings.CREDITS_APP_URL}",
        ),
    }
    return texts.get(event_type, (event_type, event_type))

"""What a person reads about an event: the in-app title and message, and the email."""

from django.conf import settings

from outbox.events import EventType

# A failed auto-recharge is emailed too: the cardholder has to act (update the card), and the
# in-app notification waits for them to sign in. So is a failed subscription payment.
EMAILED = (EventType.BALANCE_LOW, EventType.CREDITS_EXPIRING, EventType.AUTO_RECHARGE_FAILED,
           EventType.SUBSCRIPTION_PAST_DUE)


def _when(value) -> str:
    return str(value or "")[:16].replace("T", " ") + (" UTC" if value else "")


def _plan_change(data: dict, package: str, ends: str) -> str:
    if data.get("cancel_at_period_end"):
        return f"Your {package} subscription ends on {ends}; you keep its credits until then."
    if data.get("pending_package"):
        return f"You move to {data['pending_package']} on {ends}; {package} stays until then."
    credits = data.get("credits") or 0
    return f"Your plan is now {package}" + (f": {credits} credits were added for the rest of the month." if credits else ".")


def title_and_message(event_type: str, data: dict) -> tuple[str, str]:
    available, threshold, credits = data.get("available"), data.get("threshold"), data.get("credits")
    package, ends = data.get("package", ""), _when(data.get("current_period_end"))
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
        EventType.SUBSCRIPTION_ACTIVATED: ("Subscription active",
                                           f"You are subscribed to {package}: {credits} credits were added for this month."),
        EventType.SUBSCRIPTION_RENEWED: ("Subscription renewed", f"{package} renewed: {credits} monthly credits were added."),
        EventType.SUBSCRIPTION_CHANGED: ("Subscription changed", _plan_change(data, package, ends)),
        EventType.SUBSCRIPTION_PAST_DUE: (
            "Your subscription payment failed",
            f"We could not take the payment for {package}. Your credits keep working while we retry; pay or update "
            f"your card to keep your subscription: {settings.CREDITS_APP_URL}",
        ),
        EventType.SUBSCRIPTION_CANCELED: ("Subscription ended", f"Your subscription has ended; your plan is now {package}."),
    }
    return texts.get(event_type, (event_type, event_type))

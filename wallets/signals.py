"""Every new user gets a wallet, in the same transaction as the user; and what wallets tells the apps
above it."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="wallets.create_wallet_for_new_user")
def create_wallet_for_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import wallet_create

        wallet_create(user=instance)


# Sent when a ledger write started an auto-recharge (kwargs: recharge_id), inside the writer's
# transaction or just after its own. The app that takes payments (`payments`) listens and asks for
# the payment once the row is committed; wallets never imports it.
recharge_started = Signal()

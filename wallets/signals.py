"""Every new user gets a wallet, in the same transaction as the user."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="wallets.create_wallet_for_new_user")
def create_wallet_for_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import wallet_create

        wallet_create(user=instance)


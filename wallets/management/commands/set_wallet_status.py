from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common.exceptions import DomainError
from wallets.models import WalletStatus
from wallets.services import wallet_set_status


class Command(BaseCommand):
    help = "Lock or unlock a user's wallet."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("status", choices=WalletStatus.values)

    def handle(self, *args, username, status, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            wallet = wallet_set_status(user_id=user.pk, status=status)
        except DomainError as error:
            raise CommandError(error.detail) from None
        self.stdout.write(f"{username}: wallet {wallet.status}.")

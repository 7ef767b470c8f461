from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common.exceptions import DomainError
from wallets.services import credits_adjust


class Command(BaseCommand):
    help = "Add (positive AMOUNT) or remove (negative AMOUNT) credits from a user's wallet, with a reason."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", required=True)

    def handle(self, *args, username, amount, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            entry = credits_adjust(user_id=user.pk, amount=amount, reason=reason)
        except DomainError as error:
            raise CommandError(error.detail) from None
        self.stdout.write(f"{username}: {entry.delta:+d} credits, balance now {entry.balance_after}.")

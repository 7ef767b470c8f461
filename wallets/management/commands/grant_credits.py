from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pricing.exceptions import InvalidAmount
from wallets.models import STAFF_SOURCES
from wallets.services import credits_grant


class Command(BaseCommand):
    help = "Give USERNAME a promo, trial or compensation grant of AMOUNT credits (one `grant` ledger row)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--source", choices=STAFF_SOURCES, default="promo")
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument("--expires-at", help="ISO 8601 with a time zone, e.g. 2026-12-31T23:59:00Z")
        expiry.add_argument("--expires-in-days", type=int)
        parser.add_argument("--priority", type=int, help="Lower spends first (default by source).")

    def handle(self, *args, username, amount, reason, source, expires_at, expires_in_days, priority, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        when = None
        if expires_at:
            when = parse_datetime(expires_at)
            if when is None or when.tzinfo is None:
                raise CommandError("--expires-at must be ISO 8601 with a time zone, e.g. 2026-12-31T23:59:00Z.")
        elif expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            when = timezone.now() + timedelta(days=expires_in_days)
        try:
            outcome = credits_grant(user_ids=[user.pk], amount=amount, reason=reason, source=source,
                                    expires_at=when, priority=priority)
        except InvalidAmount as error:
            raise CommandError(error.detail) from None
        until = f", expiring {when:%Y-%m-%d %H:%M} UTC" if when else ", never expiring"
        self.stdout.write(f"Granted {amount} {source} credits to {username}{until} ({outcome.wallets} wallet).")

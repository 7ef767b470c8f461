from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common.progress import progress_bar
from pricing.exceptions import InvalidAmount
from pricing.models import Package
from wallets.models import STAFF_SOURCES, Wallet
from wallets.services import BATCH_SIZE, credits_grant


class Command(BaseCommand):
    help = ("Give USERNAME (or, with --package, every wallet of a package) a promo, trial or compensation grant "
            "of AMOUNT credits (one `grant` ledger row per wallet).")

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="+", metavar="USERNAME AMOUNT | AMOUNT --package NAME")
        parser.add_argument("--package", help="Every wallet of this package (a progress bar on a terminal).")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--source", choices=STAFF_SOURCES, default="promo")
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument("--expires-at", help="ISO 8601 with a time zone, e.g. 2026-12-31T23:59:00Z")
        expiry.add_argument("--expires-in-days", type=int)
        parser.add_argument("--priority", type=int, help="Lower spends first (default by source).")
        parser.add_argument("--idempotency-key", help="Run again with the same key: wallets already granted get nothing.")

    def handle(self, *args, target, package, reason, source, expires_at, expires_in_days, priority, idempotency_key,
               **options):
        username, amount = self._target(target, package)
        when = self._expiry(expires_at, expires_in_days)
        grant = {"amount": amount, "reason": reason, "source": source, "expires_at": when, "priority": priority,
                 "idempotency_key": idempotency_key}
        until = f", expiring {when:%Y-%m-%d %H:%M} UTC" if when else ", never expiring"
        try:
            if package is None:
                wallets = self._grant_user(username, grant)
                self.stdout.write(f"Granted {amount} {source} credits to {username}{until} ({wallets} wallet).")
            else:
                wallets = self._grant_package(package, grant)
                self.stdout.write(f"Granted {amount} {source} credits to {wallets} wallets of {package}{until}.")
        except InvalidAmount as error:
            raise CommandError(error.detail) from None

    def _target(self, target: list[str], package: str | None) -> tuple[str | None, int]:
        expected = 1 if package else 2
        if len(target) != expected:
            raise CommandError("Give USERNAME AMOUNT, or AMOUNT with --package NAME.")
        try:
            amount = int(target[-1])
        except ValueError:
            raise CommandError("AMOUNT must be a whole number of credits.") from None
        return (None if package else target[0]), amount

    def _expiry(self, expires_at: str | None, expires_in_days: int | None):
        if expires_at:
            when = parse_datetime(expires_at)
            if when is None or when.tzinfo is None:
                raise CommandError("--expires-at must be ISO 8601 with a time zone, e.g. 2026-12-31T23:59:00Z.")
            return when
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            return timezone.now() + timedelta(days=expires_in_days)
        return None

    def _grant_user(self, username: str, grant: dict) -> int:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return credits_grant(user_ids=[user.pk], **grant).wallets

    def _grant_package(self, name: str, grant: dict) -> int:
        package = Package.objects.filter(name=name).first()
        if package is None:
            raise CommandError(f"No package named {name!r}.")
        # The package's wallets, granted a batch at a time (each one statement and one transaction,
        # as the service does for a package) so that the bar moves as batches commit.
        ids = list(Wallet.objects.filter(package=package).order_by("pk").values_list("pk", flat=True))
        granted = 0
        with progress_bar(f"grant to {name}", total=len(ids), unit="wallets") as advance:
            for start in range(0, len(ids), BATCH_SIZE):
                batch = ids[start:start + BATCH_SIZE]
                granted += credits_grant(user_ids=batch, **grant).wallets
                advance(len(batch))
        return granted

from django.core.management.base import BaseCommand, CommandError

from common.periods import parse_period, period_of
from common.progress import progress_bar
from wallets.models import Wallet, WalletStatus
from wallets.services import reset_period


class Command(BaseCommand):
    help = "Run the monthly reset (grant + expiry) for a period; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM (default: the current month, UTC)")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--workers", type=int, help="batches at once (default: CREDITS_RESET_WORKERS)")

    def handle(self, *args, period=None, batch_size=5000, workers=None, **options):
        try:
            target = parse_period(period) if period else period_of()
        except ValueError:
            raise CommandError("--period must be YYYY-MM, e.g. 2026-01.") from None
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size must be between 1 and 100000.")
        if workers is not None and not 1 <= workers <= 32:
            raise CommandError("--workers must be between 1 and 32.")
        # What the job will find due (the same filter as the job's); a wallet a request catches up
        # meanwhile is not counted twice, so the bar may end a little short of its total.
        due = Wallet.objects.filter(status=WalletStatus.ACTIVE, billing_cycle_start__lt=target).count()
        with progress_bar(f"reset {target:%Y-%m}", total=due, unit="wallets") as advance:
            report = reset_period(target, batch_size=batch_size, workers=workers, on_batch=advance)
        self.stdout.write(
            f"Reset {report.period}: {report.wallets_reset} wallets in {report.seconds:.2f}s "
            f"({report.batches} batches)."
        )

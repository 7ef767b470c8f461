import csv

from django.core.management.base import BaseCommand, CommandError

from common.periods import parse_period, period_of
from common.progress import progress_bar
from transactions.finance import CREDIT_COLUMNS, REPORT_STEPS, finance_month_report


class Command(BaseCommand):
    help = "Finance's month: credits per source (granted, spent, expired, ...), money recognized, deferred, breakage."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM (default: this month)")
        parser.add_argument("--csv", action="store_true", help="One CSV row per source, then one per currency.")

    def handle(self, *args, period=None, csv=False, **options):
        try:
            month = parse_period(period) if period else period_of()
        except ValueError:
            raise CommandError("--period must be YYYY-MM.") from None
        with progress_bar(f"finance {month:%Y-%m}", total=REPORT_STEPS, unit="passes") as advance:
            report = finance_month_report(period=month, on_step=lambda: advance(1))
        if csv:
            return self._csv(report)
        self.stdout.write(f"Finance {report.period}: {'reconciles' if report.reconciles else 'DOES NOT RECONCILE'}")
        for source in report.sources:
            figures = ", ".join(f"{column} {source.credits[column]}" for column in CREDIT_COLUMNS)
            self.stdout.write(f"  {source.source}: {figures}")
        self.stdout.write(f"  spent: {report.spent_paid} paid, {report.spent_free} free")
        for currency, money in sorted(report.money.items()):
            self.stdout.write(f"  {currency}: " + ", ".join(f"{k} {v}" for k, v in money.items()))
        if not report.reconciles:
            raise CommandError("The month does not reconcile.")

    def _csv(self, report):
        writer = csv.writer(self.stdout)
        writer.writerow(["period", "source", *CREDIT_COLUMNS])
        for source in report.sources:
            writer.writerow([report.period, source.source, *(source.credits[c] for c in CREDIT_COLUMNS)])
        writer.writerow(["period", "currency", "revenue_recognized", "deferred", "breakage"])
        for currency, money in sorted(report.money.items()):
            writer.writerow([report.period, currency, money["revenue_recognized"], money["deferred"], money["breakage"]])

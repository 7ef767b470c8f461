from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from common.db_timeouts import use_job_timeouts
from common.progress import progress_bar

from wallets.services import holds_release_stale
from wallets.verification import CHECKS, ledger_problems


class Command(BaseCommand):
    help = "Check every wallet: ledger sum equals balance, holds match reserved credits, no stale holds."

    def add_arguments(self, parser):
        parser.add_argument("--release-stale", action="store_true", help="Release stale holds before checking.")

    def handle(self, *args, release_stale=False, **options):
        if release_stale:
            self.stdout.write(f"Released {holds_release_stale()} stale holds.")
        with transaction.atomic(), progress_bar("checking the ledger", total=len(CHECKS), unit="checks") as advance:
            use_job_timeouts()
            problems = ledger_problems(on_check=lambda name: advance(1))
        for problem in problems:
            self.stderr.write(f"wallet {problem.wallet_id}: {problem.message}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write("Ledger OK: every balance equals its ledger sum; no stale holds.")

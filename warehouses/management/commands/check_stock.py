from django.core.management.base import BaseCommand, CommandError

from warehouses.selectors import stock_drift


class Command(BaseCommand):
    help = "Recompute every stock level from the movement ledger and the active reservations; report any drift."

    def handle(self, *args, **options):
        drifts = stock_drift()
        for drift in drifts:
            self.stderr.write(str(drift))
        if drifts:
            raise CommandError(f"{len(drifts)} stock level(s) drift from the ledger.")
        self.stdout.write(self.style.SUCCESS("Stock levels equal the ledger."))

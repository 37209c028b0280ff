from django.core.management.base import BaseCommand

from core.access import SYSTEM_ACTOR
from payments.services import fx_rates_load


class Command(BaseCommand):
    help = "Load FX rates from the configured provider (PAYMENTS_FX_SOURCE), or --source reference|URL|path. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--source", default=None, help="'reference', an http(s) URL or a file path (JSON or CSV)")

    def handle(self, *args, source=None, **options):
        count = fx_rates_load(source=source, actor=SYSTEM_ACTOR)
        self.stdout.write(f"payments: {count} fx rates loaded")

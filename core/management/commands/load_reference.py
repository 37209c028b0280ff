from django.core.management.base import BaseCommand
from django.db import transaction

from core.discovery import app_modules


class Command(BaseCommand):
    help = "Load reference data (currencies, countries, places, HS codes, tax rules) from reference/. Idempotent."

    def handle(self, *args, **options):
        for config, module in app_modules("reference"):
            with transaction.atomic():
                counts = module.load()
            self.stdout.write(f"{config.label}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))

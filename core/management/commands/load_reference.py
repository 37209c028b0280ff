from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load reference data (currencies, countries, places, HS codes, tax rules) from reference/. Idempotent."

    def handle(self, *args, **options):
        # Apps in INSTALLED_APPS order: the lower layers first.
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.reference")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.reference":
                    raise
                continue
            with transaction.atomic():
                counts = module.load()
            self.stdout.write(f"{config.label}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))

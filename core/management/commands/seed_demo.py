from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.demo import ACCOUNTS, PASSWORD


class Command(BaseCommand):
    help = "Create the demo data: storefronts, warehouses, one account per role, a catalogue. Idempotent; demo mode only."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off (never in production).")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo runs in demo mode only (DEBUG on); pass --force to override.")
        if settings.PRODUCTION:
            raise CommandError("seed_demo never runs with KARAVAN_ENV=production.")
        call_command("load_reference", stdout=self.stdout)
        context: dict = {}
        # The lower layers first, except that the marketplace creates the companies and products
        # whose stock the warehouses' demo then gives a history, consignments and orders to pick.
        names = [c.name for c in apps.get_app_configs()]
        if "warehouses" in names and "marketplace" in names:
            names.remove("warehouses")
            names.insert(names.index("marketplace") + 1, "warehouses")
        for config in (apps.get_app_config(name.rsplit(".", 1)[-1]) for name in names):
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                context.update(module.seed(self.stdout, **context) if config.name != "core" else module.seed(self.stdout))
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {PASSWORD}):"))
        for username, (role, *_, description) in ACCOUNTS.items():
            self.stdout.write(f"  {username:<14} {role:<9} {description}")

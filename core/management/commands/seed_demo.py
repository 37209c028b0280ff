from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.demo import ACCOUNTS, PASSWORD
from core.discovery import app_modules


class Command(BaseCommand):
    help = "Create the demo data: storefronts, warehouses, one account per role, a catalogue. Idempotent; demo mode only."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run outside demo mode (never in production).")

    def handle(self, *args, force=False, **options):
        if not settings.DEMO and not force:
            raise CommandError("seed_demo runs in demo mode only (KARAVAN_ENV=demo); pass --force to override.")
        if settings.PRODUCTION:
            raise CommandError("seed_demo never runs with KARAVAN_ENV=production.")
        call_command("load_reference", stdout=self.stdout)
        context: dict = {}
        # The lower layers first, except that the marketplace creates the companies and products
        # whose stock the warehouses' demo then gives a history, consignments and orders to pick.
        for _config, module in app_modules("demo", after={"warehouses": "marketplace"}):
            with transaction.atomic():
                context.update(module.seed(self.stdout, **context))
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {PASSWORD}):"))
        for username, (role, *_, description) in ACCOUNTS.items():
            self.stdout.write(f"  {username:<14} {role:<9} {description}")

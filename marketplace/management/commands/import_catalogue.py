"""manage.py import_catalogue FILE [--images ZIP] --company <id or tax id>: import a catalogue file here
and now, through the same services the API and the portal use (as the system), printing progress."""

from contextlib import ExitStack
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.models import Company
from marketplace import selectors, services


class Command(BaseCommand):
    help = "Import a CSV or XLSX catalogue file (and a ZIP of its photos) for a company."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8) or XLSX file, columns as in the template")
        parser.add_argument("--images", help="ZIP of the photos named in the image column")
        parser.add_argument("--company", required=True, help="company id or tax id")

    def handle(self, *args, **opts):
        key = str(opts["company"]).strip()
        company = Company.objects.filter(Q(tax_id=key) | Q(pk=int(key) if key.isdigit() else None)).first()
        if company is None:
            raise CommandError(f"No company with id or tax id {key!r}.")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        images = Path(opts["images"]) if opts.get("images") else None
        if images is not None and not images.is_file():
            raise CommandError(f"No file {images}.")
        with ExitStack() as files:
            fh = files.enter_context(path.open("rb"))
            zh = files.enter_context(images.open("rb")) if images else None
            try:
                imp = services.catalogue_import_create(
                    company=company, actor=SYSTEM_ACTOR, run=False, file=File(fh, name=path.name),
                    images_zip=File(zh, name=images.name) if zh else None)
            except DomainError as exc:
                raise CommandError(" ".join([exc.message, *[m for ms in exc.fields.values() for m in ms]])) from None
        self.stdout.write(f"import {imp.pk} of {company.name}: {path.name}")

        def progress(current):
            p = selectors.import_progress(current)
            left = f", {p['seconds_left']} s left" if p["seconds_left"] else ""
            self.stdout.write(f"  {p['percent']:3d} %  {p['processed']}/{current.rows_total} rows, "
                              f"{current.rows_failed} refused, {p['rate'] or 0} rows/s{left}")

        imp = services.catalogue_import_run(import_id=imp.pk, progress=progress)
        if imp.status == imp.Status.FAILED:
            raise CommandError(selectors.import_message(imp.error, "en"))
        p = selectors.import_progress(imp)
        self.stdout.write(self.style.SUCCESS(
            f"{imp.status}: {imp.rows_done} rows imported ({imp.products_created} new, {imp.products_updated} updated), "
            f"{imp.rows_failed} refused, {p['rate'] or 0} rows/s"))
        for error in selectors.import_errors(imp, language="en")[:50]:
            self.stdout.write(f"  row {error['row']} {error['column']}: {error['message']}")

"""marketplace services: catalogue imports.

A seller's file becomes products in three steps, each safe to run twice:

1. :func:`catalogue_import_create` (the request): checks what can be checked at once (size,
   encoding, delimiter, columns, zip bombs, paths in the ZIP), stores the files, creates the import
   ``queued`` and sends ``marketplace.import_start``.
2. :func:`catalogue_import_start` (Celery): reads the whole file into chunks of rows
   (``MARKETPLACE_IMPORT_CHUNK_ROWS``), moves the import to ``running`` and sends one
   ``marketplace.import_chunk`` per chunk; a file that cannot be read fails the import with a
   message in every language.
3. :func:`catalogue_import_chunk` (Celery): checks every cell of its rows with the product rules of
   ``products`` (the same functions the product form and API call), turns the photos into the
   stored WebP and thumbnails (before any lock), then writes the valid rows in one transaction
   (a handful of bulk statements whatever the chunk size), with the chunk marked done and the
   import's counters moved in that same transaction. The company row is locked meanwhile, so two
   imports of one company never interleave their writes; a chunk already done is skipped.

Unchanged rows write nothing: no update, no event, no reindex.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode
from core.models import Company, TransitionEvent
from core.money import Money
from core.states import actor_fields, check, record_creation, transition
from core.tasks import enqueue
from warehouses import services as warehouses_services

from .. import catalogue_io, images
from ..catalogue_io import FileProblem, in_every_language
from ..models import (
    CONTENT_LANGUAGES,
    CatalogueImport,
    CatalogueImportChunk,
    CatalogueImportError,
    Listing,
    Product,
    ProductImage,
    ProductTranslation,
    Storefront,
)
from .companies import _require_member, listings_refresh
from .indexing import search_index
from .products import (
    MAX_WEIGHT_G,
    _apply,
    _best_title,
    _clean_translations,
    _positive_int,
    hs_code_validate,
    price_clean,
    price_rules,
)

S = CatalogueImport.Status


# --- upload -------------------------------------------------------------------------------------


def _read_limited(upload, limit: int, field_name: str) -> bytes:
    size = getattr(upload, "size", None)
    too_big = FileProblem(field_name, gettext_noop("The file is larger than %(mb)s MB: split it into smaller files."),
                          {"mb": f"{limit / (1024 * 1024):.0f}"}, ErrorCode.LIMIT_EXCEEDED)
    if size is not None and size > limit:
        raise too_big
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data


def catalogue_import_create(*, company: Company, file, actor, images_zip=None, run: bool = True) -> CatalogueImport:
    """Check and store a catalogue file (and its ZIP of photos), and queue its import. What can be
    seen at once is refused at once (DomainError on ``file`` or ``images``), leaving nothing stored."""
    _require_member(actor, company.pk)
    if file is None:
        raise FileProblem("file", gettext_noop("Choose a CSV or XLSX file to import."))
    data = _read_limited(file, settings.MARKETPLACE_IMPORT_MAX_BYTES, "file")
    codes = set(Storefront.objects.values_list("code", flat=True))
    header, text = catalogue_io.read_header(data, codes)
    if header.format == "csv" and next(catalogue_io.csv_rows(text, header), None) is None:
        raise FileProblem("file", gettext_noop("The file has no product rows under its first row."))
    zip_name = ""
    stored: list[str] = []
    try:
        if images_zip is not None:
            if getattr(images_zip, "size", 0) > settings.MARKETPLACE_IMPORT_ZIP_MAX_BYTES:
                raise FileProblem("images", gettext_noop("The ZIP is larger than %(mb)s MB: split it into smaller files."),
                                  {"mb": f"{settings.MARKETPLACE_IMPORT_ZIP_MAX_BYTES / (1024 * 1024):.0f}"},
                                  ErrorCode.LIMIT_EXCEEDED)
            catalogue_io.zip_index(catalogue_io.open_zip(images_zip))
            images_zip.seek(0)
            zip_name = default_storage.save(f"imports/{company.pk}/{uuid.uuid4().hex}.zip", images_zip)
            stored.append(zip_name)
        name = default_storage.save(f"imports/{company.pk}/{uuid.uuid4().hex}.{header.format}", ContentFile(data))
        stored.append(name)
        with transaction.atomic():
            imp = CatalogueImport.objects.create(
                company=company, user=actor if getattr(actor, "pk", None) else None, file=name,
                file_name=str(getattr(file, "name", "") or "")[:255], images=zip_name, format=header.format,
                delimiter=header.delimiter,
                rows_total=sum(1 for _row in catalogue_io.csv_rows(text, header)) if text is not None else 0,
            )
            record_creation(imp, actor=actor)
            if run:
                from ..tasks import import_start

                enqueue(import_start, imp.pk)
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return imp


# --- start: the file into chunks ----------------------------------------------------------------


def _fail(imp: CatalogueImport, messages: dict) -> None:
    transition(imp, S.FAILED, actor=SYSTEM_ACTOR, reason=messages.get("en", ""),
               extra_updates={"error": messages, "finished_at": timezone.now()})


def catalogue_import_start(*, import_id: int, send_chunks: bool = True) -> list[int]:
    """Read the file into chunks and start the import; return the indexes of the chunks still to
    write (and send their tasks). Run again, it only sends the chunks not yet done."""
    imp = CatalogueImport.objects.filter(pk=import_id).first()
    if imp is None or imp.status in (S.DONE, S.FAILED):
        return []
    if imp.status == S.QUEUED:
        try:
            chunks = _plan(imp)
        except FileProblem as problem:
            with contextlib.suppress(DomainError):  # another run moved it meanwhile
                _fail(imp, problem.messages())
            return []
        try:
            with transaction.atomic():
                transition(imp, S.RUNNING, actor=SYSTEM_ACTOR, extra_updates={
                    "started_at": timezone.now(), "rows_total": sum(len(c) for c in chunks), "chunks_total": len(chunks)})
                CatalogueImportChunk.objects.bulk_create([
                    CatalogueImportChunk(catalogue_import=imp, index=i, rows=rows) for i, rows in enumerate(chunks)])
        except DomainError:  # started by a duplicate of this task: send what is left
            pass
    todo = list(CatalogueImportChunk.objects.filter(catalogue_import_id=import_id, done=False)
                .order_by("index").values_list("index", flat=True))
    if send_chunks:
        from ..tasks import import_chunk

        for index in todo:
            enqueue(import_chunk, import_id, index)
    return todo


def _plan(imp: CatalogueImport) -> list[list]:
    with default_storage.open(imp.file, "rb") as fh:
        data = fh.read()
    codes = set(Storefront.objects.values_list("code", flat=True))
    header, _text = catalogue_io.read_header(data, codes)
    size = max(1, settings.MARKETPLACE_IMPORT_CHUNK_ROWS)
    limit = settings.MARKETPLACE_IMPORT_MAX_ROWS
    chunks: list[list] = [[]]
    first_row: dict[str, int] = {}
    count = 0
    for number, row in catalogue_io.read_rows(data, header):
        count += 1
        if count > limit:
            raise FileProblem("file", gettext_noop("The file has more than %(n)s rows: split it into smaller files."),
                              {"n": limit}, ErrorCode.LIMIT_EXCEEDED)
        sku = row.get("sku", "")
        if sku in first_row:
            row["__duplicate_of"] = first_row[sku]
        elif sku:
            first_row[sku] = number
        if len(chunks[-1]) >= size:
            chunks.append([])
        chunks[-1].append([number, row])
    if not count:
        raise FileProblem("file", gettext_noop("The file has no product rows under its first row."))
    return chunks


# --- a chunk ------------------------------------------------------------------------------------


def _messages_of(exc: DomainError) -> str:
    parts = [m for messages in exc.fields.values() for m in messages]
    return " ".join(dict.fromkeys(parts)) or exc.message


def _in_languages(check) -> dict[str, str]:
    """The refusal of ``check`` (which raised a DomainError in the active language) in every
    language of the site, by asking the same rule again in each."""
    out = {}
    for language in catalogue_io.site_languages():
        with translation.override(language):
            try:
                check()
            except DomainError as exc:
                out[language] = _messages_of(exc)
    return out


class _Refused(Exception):
    def __init__(self, messages: dict[str, str]):
        self.messages = messages


@dataclass
class _Photo:
    sha256: str
    data: bytes
    width: int
    height: int
    thumbnails: dict[int, bytes]


@dataclass
class _Row:
    number: int
    sku: str
    facts: dict
    texts: dict  # language -> {"title", "description"} or None (removed); only languages with a title column
    prices: dict  # storefront code -> Money or None (removed)
    image: str = ""
    photo: _Photo | None = None


class _Checker:
    """Checks rows with the product rules, asking the database once per distinct value."""

    def __init__(self, imp: CatalogueImport, archive, index):
        self.imp = imp
        self.rules = price_rules(imp.company, [s.code for s in Storefront.objects.all()])
        self.currencies = {code: sf.currency_id for code, sf in self.rules[0].items()}
        self.memo: dict = {}
        self.archive, self.index = archive, index

    def attempt(self, check, key=None):
        """``check()``, or _Refused with its message in every language (remembered under ``key``)."""
        if key is not None and key in self.memo:
            value, messages = self.memo[key]
        else:
            try:
                value, messages = check(), None
            except DomainError:
                value, messages = None, _in_languages(check)
            if key is not None:
                self.memo[key] = (value, messages)
        if messages is not None:
            raise _Refused(messages)
        return value

    def row(self, number: int, cells: dict) -> tuple[_Row | None, list[tuple[str, dict]]]:
        errors: list[tuple[str, dict]] = []

        def cell(column, check, key=None):
            try:
                return self.attempt(check, key)
            except _Refused as refused:
                errors.append((column, refused.messages))
                return None

        def own(column, msgid, params=None):
            errors.append((column, in_every_language(msgid, params)))

        if cells.get("__extra"):
            own("", gettext_noop("This row has more cells than the first row has columns."))
        if cells.get("__duplicate_of"):
            own("sku", gettext_noop("The SKU %(sku)s is already on row %(row)s of this file."),
                {"sku": cells.get("sku", ""), "row": cells["__duplicate_of"]})
        for column in ("category", "hs_code", "origin_country"):
            if not cells.get(column):
                own(column, gettext_noop("This field is required."))
        sku = cell("sku", lambda: _fact("sku_code", cells.get("sku", "")))
        category = cells.get("category") and cell(
            "category", lambda: _fact("category", cells["category"]), ("category", cells["category"]))
        hs = cells.get("hs_code") and cell("hs_code", lambda: hs_code_validate(cells["hs_code"]), ("hs", cells["hs_code"]))
        origin = cells.get("origin_country") and cell(
            "origin_country", lambda: _fact("origin_country", cells["origin_country"]), ("country", cells["origin_country"]))
        net = cell("net_weight_g", lambda: _positive_int(cells.get("net_weight_g", ""), "net_weight_g", maximum=MAX_WEIGHT_G))
        gross = cell("gross_weight_g", lambda: _positive_int(cells.get("gross_weight_g", ""), "gross_weight_g",
                                                            maximum=MAX_WEIGHT_G, required=False))
        if net and not any(c == "gross_weight_g" for c, _m in errors):
            cell("gross_weight_g", lambda: _apply(Product(), {"net_weight_g": net, "gross_weight_g": gross}, creating=True))
        texts = {}
        for language in CONTENT_LANGUAGES:
            if f"title_{language}" not in cells:
                continue
            title, description = cells.get(f"title_{language}", ""), cells.get(f"description_{language}", "")
            if not title and not description:
                texts[language] = None
                continue
            cleaned = cell(f"title_{language}", lambda t=title, d=description, lang=language: _clean_translations(
                {lang: {"title": t, "description": d}}))
            if cleaned:
                texts[language] = cleaned[language]
        if not any(texts.values()) and not any(c.startswith("title_") for c, _m in errors):
            own(next(f"title_{lang}" for lang in CONTENT_LANGUAGES if f"title_{lang}" in cells),
                gettext_noop("Give the product a title in at least one language."))
        prices = {}
        for column in cells:
            if not column.startswith(catalogue_io.PRICE_PREFIX):
                continue
            code = column[len(catalogue_io.PRICE_PREFIX):]
            value = cells[column]
            if not value:
                prices[code] = None
                continue
            try:
                money = Money.of(value, self.currencies[code])
            except DomainError:
                own(column, gettext_noop("Enter a price such as 12.50, in %(currency)s."), {"currency": self.currencies[code]})
                continue
            cleaned = cell(column, lambda c=code, m=money: price_clean(self.rules, c, m), ("price", code, money.minor))
            if cleaned is not None:
                prices[code] = cleaned
        image = cells.get(catalogue_io.IMAGE_COLUMN, "")
        if image:
            if not catalogue_io.safe_member_name(image):
                own("image", gettext_noop("Give the photo's file name inside the ZIP, without a folder outside it."))
            elif self.archive is None:
                own("image", gettext_noop("No ZIP of photos was sent with this file."))
            elif image not in self.index:
                own("image", gettext_noop("%(name)s is not in the ZIP of photos."), {"name": image[:100]})
        if errors:
            return None, errors
        facts = {"category": category, "hs_code": hs, "origin_country_id": origin, "net_weight_g": net,
                 "gross_weight_g": gross or net}
        return _Row(number, sku, facts, texts, prices, image), []

    def photo(self, row: _Row, known: set[str]) -> list[tuple[str, dict]]:
        """Read, check and encode the row's photo (unless the product has it already)."""
        info = self.index[row.image]

        class Entry:
            size = info.file_size

            def read(_self, n=-1):
                with self.archive.open(info) as fh:
                    return fh.read(n)

        try:
            data = self.attempt(lambda: images.read_upload(Entry()))
            digest = hashlib.sha256(data).hexdigest()
            if digest in known:
                return []
            encoded = self.attempt(lambda: images.normalize(data), ("photo", digest))
        except _Refused as refused:
            return [("image", refused.messages)]
        except Exception:  # noqa: BLE001 - a damaged ZIP entry (bad CRC, truncated)
            return [("image", in_every_language(gettext_noop("The photo is damaged or incomplete: please export it again.")))]
        thumbs = {w: images.thumbnail(encoded.data, w) for w in settings.MARKETPLACE_THUMBNAIL_SIZES if w < encoded.width}
        row.photo = _Photo(digest, encoded.data, encoded.width, encoded.height, thumbs)
        return []


def _fact(name: str, value):
    """One column checked by the product service's own rule (``products._apply``)."""
    product = Product()
    _apply(product, {name: value}, creating=False)
    if name == "category":
        return product.category
    return product.origin_country_id if name == "origin_country" else product.sku_code


def catalogue_import_chunk(*, import_id: int, index: int) -> bool:
    """Write one chunk of an import; False when it was written already (or the import is over)."""
    chunk = CatalogueImportChunk.objects.filter(catalogue_import_id=import_id, index=index).select_related(
        "catalogue_import__company", "catalogue_import__user").first()
    if chunk is None or chunk.done or chunk.catalogue_import.status != S.RUNNING:
        return False
    imp = chunk.catalogue_import
    archive = index_ = None
    zip_file = None
    try:
        if imp.images:
            zip_file = default_storage.open(imp.images, "rb")
            archive = catalogue_io.open_zip(zip_file)
            index_ = catalogue_io.zip_index(archive)
        started = time.perf_counter()
        checker = _Checker(imp, archive, index_)
        valid: list[_Row] = []
        errors: list[tuple[int, str, dict]] = []
        for number, cells in chunk.rows:
            row, row_errors = checker.row(number, cells)
            if row is None:
                errors += [(number, column, messages) for column, messages in row_errors]
            else:
                valid.append(row)
        checked = time.perf_counter()
        # Photos: decoded and encoded here, before any lock (the slow part, run in parallel by the workers).
        known = _known_photos(imp.company_id, [r.sku for r in valid if r.image])
        keep = []
        for row in valid:
            problems = checker.photo(row, known.get(row.sku, set())) if row.image else []
            if problems:
                errors += [(row.number, column, messages) for column, messages in problems]
            else:
                keep.append(row)
        timings = {"seconds_check": checked - started, "seconds_photos": time.perf_counter() - checked}
        return _write_chunk(chunk.pk, imp, keep, errors, timings)
    finally:
        if archive is not None:
            archive.close()
        if zip_file is not None:
            zip_file.close()


def _known_photos(company_id: int, skus: list[str]) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    if skus:
        for sku, digest in ProductImage.objects.filter(product__company_id=company_id, product__sku_code__in=skus).exclude(
                source_sha256="").values_list("product__sku_code", "source_sha256"):
            known.setdefault(sku, set()).add(digest)
    return known


def _write_chunk(chunk_pk: int, imp: CatalogueImport, rows: list[_Row], errors: list, timings: dict) -> bool:
    actor = imp.user or SYSTEM_ACTOR
    saved: list[str] = []
    try:
        with transaction.atomic():
            # One writer per company at a time: two imports (or two chunks) never interleave.
            Company.objects.select_for_update().filter(pk=imp.company_id).values_list("pk", flat=True).first()
            started = time.perf_counter()  # the write itself, not the wait for the lock
            chunk = CatalogueImportChunk.objects.select_for_update().get(pk=chunk_pk)
            if chunk.done:
                return False
            created, updated, touched, saved[:] = _upsert(imp, rows, actor)
            CatalogueImportError.objects.bulk_create([
                CatalogueImportError(catalogue_import_id=imp.pk, row=number, column=column, message=messages)
                for number, column, messages in errors])
            failed_rows = len({number for number, _c, _m in errors})
            now = timezone.now()
            CatalogueImportChunk.objects.filter(pk=chunk_pk).update(
                done=True, rows=[], rows_done=len(rows), rows_failed=failed_rows, finished_at=now, **timings)
            CatalogueImport.objects.filter(pk=imp.pk).update(
                rows_done=F("rows_done") + len(rows), rows_failed=F("rows_failed") + failed_rows,
                products_created=F("products_created") + created, products_updated=F("products_updated") + updated,
                chunks_done=F("chunks_done") + 1)
            state = CatalogueImport.objects.select_for_update().values("chunks_done", "chunks_total").get(pk=imp.pk)
            if state["chunks_done"] >= state["chunks_total"]:
                transition(imp, S.DONE, actor=SYSTEM_ACTOR, extra_updates={"finished_at": now})
            if touched:
                listings_refresh(product_ids=touched, reindex=False)
                for start in range(0, len(touched), 500):
                    search_index(product_ids=touched[start:start + 500])
            # The time in the transaction so far (the commit itself is not counted).
            CatalogueImportChunk.objects.filter(pk=chunk_pk).update(seconds_write=time.perf_counter() - started)
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    return True


def _upsert(imp: CatalogueImport, rows: list[_Row], actor) -> tuple[int, int, list[int], list[str]]:
    """Create or update the products of ``rows`` in bulk; return (created, updated, touched ids,
    stored file names). Nothing is written for a row that changes nothing."""
    if not rows:
        return 0, 0, [], []
    company = imp.company
    now = timezone.now()
    by_sku = {r.sku: r for r in rows}
    existing = {p.sku_code: p for p in Product.objects.filter(company=company, sku_code__in=list(by_sku))}
    texts = {(t.product_id, t.language): t for t in ProductTranslation.objects.filter(
        product_id__in=[p.pk for p in existing.values()])}
    listings = {(x.product_id, x.storefront_id): x for x in Listing.objects.filter(
        product_id__in=[p.pk for p in existing.values()])}

    titles_of: dict[int, dict[str, str]] = {}
    for (pk, lang), t in texts.items():
        titles_of.setdefault(pk, {})[lang] = t.title

    def merged_titles(row: _Row, product: Product | None) -> dict[str, str]:
        titles = dict(titles_of.get(product.pk, {})) if product is not None else {}
        for lang, text in row.texts.items():
            if text is None:
                titles.pop(lang, None)
            else:
                titles[lang] = text["title"]
        return titles

    sku_ids = warehouses_services.sku_upsert_many(company_id=company.pk, actor=actor, items=[
        {"code": r.sku, "name": _best_title(merged_titles(r, existing.get(r.sku))), "hs_code": r.facts["hs_code"],
         "origin_country": r.facts["origin_country_id"], "weight_g": r.facts["gross_weight_g"]} for r in rows])

    # Products. A new one is born on sale (one event, from nothing to active) when it could be published
    # at once: the company is verified, the row gives a title (always) and a price, and the product
    # machine lets the actor publish (draft -> active); else it is born a draft.
    publish = company.verification == Company.Verification.VERIFIED
    if publish:
        check(Product(status=Product.Status.DRAFT), Product.Status.ACTIVE, actor=actor)
    fields = ("category_id", "hs_code", "origin_country_id", "net_weight_g", "gross_weight_g", "sku_id")
    new, changed = [], []
    for row in rows:
        values = {"category_id": row.facts["category"].pk, "hs_code": row.facts["hs_code"],
                  "origin_country_id": row.facts["origin_country_id"], "net_weight_g": row.facts["net_weight_g"],
                  "gross_weight_g": row.facts["gross_weight_g"], "sku_id": sku_ids[row.sku]}
        product = existing.get(row.sku)
        if product is None:
            status = Product.Status.ACTIVE if publish and any(row.prices.values()) else Product.Status.DRAFT
            new.append(Product(company=company, sku_code=row.sku, status=status, **values))
        elif any(getattr(product, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(product, f, v)
            product.updated_at = now
            changed.append(product)
    if new:
        Product.objects.bulk_create(new)
        content_type = ContentType.objects.get_for_model(Product)
        TransitionEvent.objects.bulk_create([TransitionEvent(
            machine=Product.machine.name, content_type=content_type, object_id=p.pk, from_state="",
            to_state=p.status, at=now, reason="catalogue import", payload={"import": imp.pk}, **actor_fields(actor))
            for p in new])
    if changed:
        Product.objects.bulk_update(changed, [*fields, "updated_at"])
    products = {**existing, **{p.sku_code: p for p in new}}
    touched: set[int] = {p.pk for p in new} | {p.pk for p in changed}

    # Texts.
    add_texts, edit_texts, drop_texts = [], [], []
    for row in rows:
        pk = products[row.sku].pk
        for lang, text in row.texts.items():
            current = texts.get((pk, lang))
            if text is None:
                if current is not None:
                    drop_texts.append(current.pk)
                    touched.add(pk)
            elif current is None:
                add_texts.append(ProductTranslation(product_id=pk, language=lang, **text))
                touched.add(pk)
            elif (current.title, current.description) != (text["title"], text["description"]):
                current.title, current.description = text["title"], text["description"]
                edit_texts.append(current)
                touched.add(pk)
    if drop_texts:
        ProductTranslation.objects.filter(pk__in=drop_texts).delete()
    if add_texts:
        ProductTranslation.objects.bulk_create(add_texts)
    if edit_texts:
        ProductTranslation.objects.bulk_update(edit_texts, ["title", "description"])

    # Prices.
    add_listings, edit_listings, drop_listings = [], [], []
    changed_pks = {p.pk for p in changed}
    listings_of: dict[int, dict[str, Listing]] = {}
    for (pk, code), listing in listings.items():
        listings_of.setdefault(pk, {})[code] = listing
    for row in rows:
        product = products[row.sku]
        for code, price in row.prices.items():
            current = listings.get((product.pk, code))
            if price is None:
                if current is not None:
                    drop_listings.append(current.pk)
                    touched.add(product.pk)
            elif current is None:
                add_listings.append(Listing(product_id=product.pk, storefront_id=code, price_minor=price.minor,
                                            currency_id=price.currency, is_enabled=True, category_id=product.category_id))
                touched.add(product.pk)
            elif (current.price_minor, current.currency_id, current.category_id) != (
                    price.minor, price.currency, product.category_id):
                current.price_minor, current.currency_id, current.category_id = price.minor, price.currency, product.category_id
                current.updated_at = now
                edit_listings.append(current)
                touched.add(product.pk)
        if product.pk in changed_pks:  # a new category: the other listings follow it
            for code, listing in listings_of.get(product.pk, {}).items():
                if code not in row.prices and listing.category_id != product.category_id:
                    listing.category_id = product.category_id
                    edit_listings.append(listing)
    if drop_listings:
        Listing.objects.filter(pk__in=drop_listings).delete()
    if add_listings:
        Listing.objects.bulk_create(add_listings)
    if edit_listings:
        Listing.objects.bulk_update(edit_listings, ["price_minor", "currency_id", "category_id", "updated_at"])

    # Photos: stored under the product, the new one as the cover.
    saved, photos = [], []
    for row in rows:
        if row.photo is None:
            continue
        product = products[row.sku]
        stem = f"products/{product.pk}/{uuid.uuid4().hex}"
        name = default_storage.save(f"{stem}.webp", ContentFile(row.photo.data))
        saved.append(name)
        thumbnails = {}
        for width in settings.MARKETPLACE_THUMBNAIL_SIZES:
            data = row.photo.thumbnails.get(width)
            if data is None:
                thumbnails[str(width)] = name  # never upscale: the original is small enough
            else:
                thumbnails[str(width)] = default_storage.save(f"{stem}_{width}.webp", ContentFile(data))
                saved.append(thumbnails[str(width)])
        photos.append((product, ProductImage(
            product_id=product.pk, file=name, width=row.photo.width, height=row.photo.height,
            size_bytes=len(row.photo.data), thumbnails=thumbnails, source_sha256=row.photo.sha256)))
    if photos:
        counts = dict(ProductImage.objects.filter(product_id__in=[p.pk for p, _i in photos]).values(
            "product_id").annotate(n=Count("id")).values_list("product_id", "n"))
        for product, image in photos:
            image.position = counts.get(product.pk, 0)
        ProductImage.objects.bulk_create([image for _p, image in photos])
        covers = []
        for product, image in photos:
            product.cover_id = image.pk
            covers.append(product)
            touched.add(product.pk)
        Product.objects.bulk_update(covers, ["cover"])

    updated = len({p.pk for p in existing.values()} & touched)
    return len(new), updated, sorted(touched), saved


# --- the whole import in this process (manage.py import_catalogue) ---------------------------------


def catalogue_import_run(*, import_id: int, progress=None) -> CatalogueImport:
    """Start and write every chunk here, as the worker would, calling ``progress(import)`` after each."""
    for index in catalogue_import_start(import_id=import_id, send_chunks=False):
        catalogue_import_chunk(import_id=import_id, index=index)
        if progress is not None:
            progress(CatalogueImport.objects.get(pk=import_id))
    return CatalogueImport.objects.get(pk=import_id)

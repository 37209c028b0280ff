"""The catalogue file: its columns, and reading and writing it as CSV or XLSX (and the ZIP of photos).

Nothing here trusts what it is given. A CSV is UTF-8 (a byte-order mark is allowed) and its delimiter
is found from the header; an XLSX is a ZIP whose entries are measured before openpyxl opens it
(read-only), so a zip bomb is refused from its directory; the ZIP of photos is measured the same way
and refused when an entry's path would leave its folder. A problem with the whole file is a
:class:`FileProblem`, which carries its message id and parameters so it can be told in any language
(an import that fails in the worker stores the message in every language of the site).
"""

from __future__ import annotations

import csv
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from core.errors import DomainError, ErrorCode

from .models import CONTENT_LANGUAGES

FACT_COLUMNS = ["sku", "category", "hs_code", "origin_country", "net_weight_g", "gross_weight_g"]
TITLE_COLUMNS = [f"title_{lang}" for lang in CONTENT_LANGUAGES]
DESCRIPTION_COLUMNS = [f"description_{lang}" for lang in CONTENT_LANGUAGES]
REQUIRED_COLUMNS = ["sku", "category", "hs_code", "origin_country", "net_weight_g"]
IMAGE_COLUMN = "image"
PRICE_PREFIX = "price_"
DELIMITERS = [",", ";", "\t", "|"]


def site_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def columns(storefront_codes) -> list[str]:
    """Every column of a file for these storefronts, in the order the template and the export use."""
    return [*FACT_COLUMNS, *TITLE_COLUMNS, *DESCRIPTION_COLUMNS,
            *[f"{PRICE_PREFIX}{code}" for code in storefront_codes], IMAGE_COLUMN]


def render(msgid: str, params: dict | None = None) -> str:
    text = gettext(msgid)
    return text % params if params else text


def in_every_language(msgid: str, params: dict | None = None) -> dict[str, str]:
    """A message (id and parameters) in every language of the site."""
    out = {}
    for language in site_languages():
        with translation.override(language):
            out[language] = render(msgid, params)
    return out


class FileProblem(DomainError):
    """The whole file (field ``file``) or ZIP (field ``images``) cannot be imported."""

    def __init__(self, field_name: str, msgid: str, params: dict | None = None, code: ErrorCode = ErrorCode.INVALID_FILE):
        self.msgid, self.params, self.field = msgid, params or {}, field_name
        message = render(msgid, self.params)
        super().__init__(code, message, {field_name: [message]})

    def messages(self) -> dict[str, str]:
        return in_every_language(self.msgid, self.params)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Header:
    format: str  # "csv" or "xlsx"
    columns: list[str]
    delimiter: str = ""
    prices: list[str] = field(default_factory=list)  # storefront codes with a price column


def _normalise_header(raw, storefront_codes: set[str]) -> Header:
    names = [str(c or "").strip().lower() for c in raw]
    while names and not names[-1]:
        names.pop()
    if not any(names):
        raise FileProblem("file", gettext_noop("The file is empty: its first row must name the columns."))
    known = set(FACT_COLUMNS) | set(TITLE_COLUMNS) | set(DESCRIPTION_COLUMNS) | {IMAGE_COLUMN}
    unknown, prices, seen, duplicated = [], [], set(), []
    for name in names:
        if name in seen:
            duplicated.append(name)
        seen.add(name)
        if name.startswith(PRICE_PREFIX) and name[len(PRICE_PREFIX):] in storefront_codes:
            prices.append(name[len(PRICE_PREFIX):])
        elif name not in known:
            unknown.append(name or "?")
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise FileProblem("file", gettext_noop("Columns missing from the first row: %(columns)s."),
                          {"columns": ", ".join(missing)})
    if not any(c in seen for c in TITLE_COLUMNS):
        raise FileProblem("file", gettext_noop("Add at least one title column (%(columns)s)."),
                          {"columns": ", ".join(TITLE_COLUMNS)})
    if duplicated:
        raise FileProblem("file", gettext_noop("Columns named twice: %(columns)s."), {"columns": ", ".join(duplicated)})
    if unknown:
        raise FileProblem("file", gettext_noop("Unknown columns: %(columns)s (see the template for the column names)."),
                          {"columns": ", ".join(unknown)})
    return Header(format="", columns=names, prices=prices)


def sniff_format(data: bytes) -> str:
    return "xlsx" if data[:4] == b"PK\x03\x04" else "csv"


def csv_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8, with or without a byte-order mark; anything else is refused."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileProblem("file", gettext_noop("The file is saved as UTF-16: save it again as CSV UTF-8."))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FileProblem("file", gettext_noop(
            "The file is not UTF-8 text (line %(line)s): save it again as CSV UTF-8."), {"line": line}) from None
    if "\x00" in text:
        raise FileProblem("file", gettext_noop("The file is not a CSV text file: save it as CSV UTF-8 or XLSX."))
    return text


def csv_header(text: str, storefront_codes: set[str]) -> Header:
    """The header line, with the delimiter that splits it into known column names."""
    first = next(iter(text.splitlines()), "")
    if not first.strip():
        raise FileProblem("file", gettext_noop("The file is empty: its first row must name the columns."))
    best, best_score = ",", -1
    for delimiter in DELIMITERS:
        names = {c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter))}
        score = len(names & set(REQUIRED_COLUMNS))
        if score > best_score:
            best, best_score = delimiter, score
    if best_score == 0:
        raise FileProblem("file", gettext_noop(
            "The first row does not name the columns (sku, category, hs_code, ...), separated by commas or semicolons."))
    header = _normalise_header(next(csv.reader([first], delimiter=best)), storefront_codes)
    header.format, header.delimiter = "csv", best
    return header


def _cell(value) -> str:
    """A spreadsheet cell as the text a CSV would hold (12.5 -> "12.5", 250.0 -> "250")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value).strip()


def csv_rows(text: str, header: Header) -> Iterator[tuple[int, dict]]:
    """(row number, {column: text}) of each non-empty row, the header being row 1.

    Read strictly: a quote left open (which would swallow every row after it into one cell) or text
    after a closing quote makes the whole file a FileProblem naming the row, never a product."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=header.delimiter, strict=True)
    number = 1
    try:
        next(reader, None)
        for number, cells in enumerate(reader, start=2):  # number: the row of a csv.Error below
            if not any(c.strip() for c in cells):
                continue
            yield number, _row_dict(header, [c.strip() for c in cells])
    except csv.Error:
        raise FileProblem("file", gettext_noop(
            "Row %(row)s is broken: a quote is not closed, or a quoted cell has text after its closing quote."),
            {"row": number + 1}) from None


def _row_dict(header: Header, cells: list[str]) -> dict:
    row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header.columns) if name}
    if any(cells[len(header.columns):]):
        row["__extra"] = "1"
    return row


def _check_xlsx_container(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem("file", gettext_noop("The XLSX file is damaged or incomplete: save it again.")) from None
    limit, ratio = settings.MARKETPLACE_IMPORT_XLSX_MAX_UNPACKED, settings.MARKETPLACE_IMPORT_MAX_RATIO
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if len(infos) > 10_000 or total > limit or (total > 1024 * 1024 and total > ratio * max(packed, 1)):
        raise FileProblem("file", gettext_noop(
            "The XLSX file unpacks to more than %(mb)s MB (or too much for its size): split it into smaller files."),
            {"mb": _mb(limit)}, ErrorCode.LIMIT_EXCEEDED)
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise FileProblem("file", gettext_noop("This ZIP file is not an XLSX workbook: send a CSV or XLSX file."))


def _open_sheet(data: bytes):
    import openpyxl

    _check_xlsx_container(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return workbook, workbook.worksheets[0]
    except Exception:  # noqa: BLE001 - openpyxl raises anything on a broken workbook
        raise FileProblem("file", gettext_noop("The XLSX file is damaged or incomplete: save it again.")) from None


def xlsx_header(data: bytes, storefront_codes: set[str]) -> Header:
    workbook, sheet = _open_sheet(data)
    try:
        first = next(sheet.iter_rows(max_row=1, values_only=True), None)
    except Exception:  # noqa: BLE001
        raise FileProblem("file", gettext_noop("The XLSX file is damaged or incomplete: save it again.")) from None
    finally:
        workbook.close()
    header = _normalise_header([_cell(v) for v in (first or [])], storefront_codes)
    header.format = "xlsx"
    return header


def xlsx_rows(data: bytes, header: Header) -> Iterator[tuple[int, dict]]:
    workbook, sheet = _open_sheet(data)
    try:
        for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            row = _row_dict(header, cells)
            code = values[header.columns.index("hs_code")] if "hs_code" in header.columns and len(values) > header.columns.index("hs_code") else None
            if isinstance(code, int | float) and len(row["hs_code"]) in (5, 9):
                # A code typed as a number lost its leading zero (040900 -> 40900).
                row["hs_code"] = row["hs_code"].zfill(len(row["hs_code"]) + 1)
            yield number, row
    except FileProblem:
        raise
    except Exception:  # noqa: BLE001
        raise FileProblem("file", gettext_noop("The XLSX file is damaged or incomplete: save it again.")) from None
    finally:
        workbook.close()


def read_header(data: bytes, storefront_codes: set[str]) -> tuple[Header, str | None]:
    """The header of a file and, for a CSV, its text; refuses an empty or unreadable file."""
    if not data.strip():
        raise FileProblem("file", gettext_noop("The file is empty: its first row must name the columns."))
    if sniff_format(data) == "xlsx":
        return xlsx_header(data, storefront_codes), None
    text = csv_text(data)
    return csv_header(text, storefront_codes), text


def read_rows(data: bytes, header: Header) -> Iterator[tuple[int, dict]]:
    if header.format == "xlsx":
        return xlsx_rows(data, header)
    return csv_rows(csv_text(data), header)


# --- the ZIP of photos --------------------------------------------------------------------------


def safe_member_name(name: str) -> bool:
    """A path inside the ZIP's folder: relative, no "..", no backslash or drive letter."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/")[0]:
        return False
    return ".." not in name.split("/")


def zip_index(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """File name -> entry, checked: limits on entries and unpacked size, no path leaving the folder.
    A photo is found by its path in the ZIP or, when that is unique, by its bare file name."""
    infos = archive.infolist()
    limit, ratio = settings.MARKETPLACE_IMPORT_ZIP_MAX_UNPACKED, settings.MARKETPLACE_IMPORT_MAX_RATIO
    if len(infos) > settings.MARKETPLACE_IMPORT_ZIP_MAX_ENTRIES:
        raise FileProblem("images", gettext_noop("The ZIP holds more than %(n)s files."),
                          {"n": settings.MARKETPLACE_IMPORT_ZIP_MAX_ENTRIES}, ErrorCode.LIMIT_EXCEEDED)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limit or (total > 1024 * 1024 and total > ratio * max(packed, 1)):
        raise FileProblem("images", gettext_noop(
            "The ZIP unpacks to more than %(mb)s MB (or too much for its size): it looks like a zip bomb."),
            {"mb": _mb(limit)}, ErrorCode.LIMIT_EXCEEDED)
    index: dict[str, zipfile.ZipInfo] = {}
    bare: dict[str, list[zipfile.ZipInfo]] = {}
    for info in infos:
        if not safe_member_name(info.filename):
            raise FileProblem("images", gettext_noop(
                "The ZIP holds a path outside its folder (%(name)s): put the photos in the ZIP itself."),
                {"name": info.filename[:100]})
        if info.is_dir():
            continue
        index[info.filename] = info
        bare.setdefault(posixpath.basename(info.filename), []).append(info)
    for name, found in bare.items():
        if len(found) == 1:
            index.setdefault(name, found[0])
    return index


def open_zip(fh) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem("images", gettext_noop("The photos must come as one ZIP file; this one is damaged or not a ZIP.")) from None


# --- writing ------------------------------------------------------------------------------------


def column_help(storefronts) -> list[tuple[str, str]]:
    """Each column and what to write in it, in the active language."""
    from django.utils.translation import gettext as _

    from .models import CONTENT_LANGUAGE_NAMES

    rows = [
        ("sku", _("Required. Your own code of the product, 1 to 64 characters without spaces; a row with an SKU you already have updates that product.")),
        ("category", _("Required. The category's code, e.g. honey or smartphones (see the category list).")),
        ("hs_code", _("Required. The HS code, 6 to 10 digits, e.g. 040900 for honey; type it as text so the leading zero stays.")),
        ("origin_country", _("Required. Country of origin, two letters: KZ, CN, UZ, KG, TJ, TM.")),
        ("net_weight_g", _("Required. Net weight in grams, a whole number.")),
        ("gross_weight_g", _("Weight with packaging in grams; empty means the net weight.")),
    ]
    for language in CONTENT_LANGUAGES:
        rows.append((f"title_{language}", _("Title in %(language)s, at most 200 characters; at least one title per row.")
                     % {"language": CONTENT_LANGUAGE_NAMES[language]}))
    for language in CONTENT_LANGUAGES:
        rows.append((f"description_{language}", _("Description in %(language)s.") % {"language": CONTENT_LANGUAGE_NAMES[language]}))
    for storefront in storefronts:
        rows.append((f"{PRICE_PREFIX}{storefront.code}", _(
            "Price on %(storefront)s in %(currency)s, e.g. 12.50; empty removes the product from that storefront.")
            % {"storefront": storefront.code, "currency": storefront.currency_id}))
    rows.append((IMAGE_COLUMN, _("Optional. The photo's file name in the ZIP sent with this file (JPEG, PNG or WebP); it becomes the cover.")))
    return rows


def write_csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    # With a byte-order mark, Excel opens the file as UTF-8; the import accepts it.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(header: list[str], rows, help_rows: list[tuple[str, str]] | None = None,
               sheet_title: str = "catalogue", help_title: str = "columns") -> bytes:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for row in rows:
        # Every value as text: an SKU or HS code keeps its leading zeros and a price its digits.
        sheet.append([str(row.get(c, "")) for c in header])
    if help_rows:
        notes = workbook.create_sheet(help_title[:31])
        for name, text in help_rows:
            notes.append([name, text])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

"""Catalogue import, bad files: each refused with a clear error (at upload when it can be seen at once,
else the import fails with a message in the seller's language), and nothing half-written."""

import io
import os
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace import services
from marketplace.models import CatalogueImport, Product

from .conftest import image_bytes
from .test_imports import HEADER, csv_file, finished, honey, upload, xlsx_file, zip_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored(media) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(media) for f in fs]


def refused(client, media, file, images=None, *, status=400, code="invalid_file", field="file"):
    response = upload(client, file, images)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"], error
    assert not CatalogueImport.objects.exists() and not stored(media)
    return error["fields"][field][0]


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_bom_and_semicolons_are_accepted(api_as, seller, kz_company, media):
    client = api_as(seller)
    response = upload(client, csv_file(honey(1), bom=True))
    assert response.status_code == 202 and response.json()["rows_total"] == 1
    semicolons = csv_file(honey(2).replace(",", ";"), header=HEADER.replace(",", ";"))
    response = upload(client, semicolons)
    assert response.status_code == 202 and response.json()["rows_total"] == 1


def test_another_encoding_is_refused_with_its_line(api_as, seller, kz_company, media):
    rows = [honey(n).replace(f"荞麦蜂蜜 {n}", "") for n in (1, 2)]
    message = refused(api_as(seller), media, csv_file(*rows, encoding="cp1251"))
    assert "UTF-8" in message and "line 2" in message


def test_utf16_is_named(api_as, seller, kz_company, media):
    data = ("\ufeff" + HEADER + "\r\n" + honey(1)).encode("utf-16-le")
    assert "UTF-16" in refused(api_as(seller), media, SimpleUploadedFile("c.csv", b"\xff\xfe" + data[2:]))


def test_missing_columns_are_listed(api_as, seller, kz_company, media):
    message = refused(api_as(seller), media, csv_file("X1,honey,250", header="sku,category,net_weight_g"))
    assert "hs_code" in message and "origin_country" in message


def test_a_wrong_delimiter_is_told(api_as, seller, kz_company, media):
    message = refused(api_as(seller), media, csv_file(honey(1).replace(",", " "), header=HEADER.replace(",", " ")))
    assert "commas or semicolons" in message


def test_unknown_columns_are_named(api_as, seller, kz_company, media):
    message = refused(api_as(seller), media, csv_file(honey(1) + ",x", header=HEADER + ",colour"))
    assert "colour" in message


@pytest.mark.parametrize("data", [b"", b"   \r\n", HEADER.encode() + b"\r\n"])
def test_an_empty_file_is_refused(api_as, seller, kz_company, media, data):
    message = refused(api_as(seller), media, SimpleUploadedFile("empty.csv", data))
    assert "empty" in message or "no product rows" in message


def test_a_truncated_xlsx_is_refused(api_as, seller, kz_company, media):
    data = xlsx_file([HEADER.split(","), honey(1).split(",")]).read()
    message = refused(api_as(seller), media, SimpleUploadedFile("c.xlsx", data[: len(data) // 2]))
    assert "XLSX" in message and "damaged" in message


def test_an_xlsx_bomb_is_refused_from_its_directory(api_as, seller, kz_company, media, settings):
    settings.MARKETPLACE_IMPORT_XLSX_MAX_UNPACKED = 2 * 1024 * 1024
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                      "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)})
    message = refused(api_as(seller), media, SimpleUploadedFile("bomb.xlsx", bomb), status=422, code="limit_exceeded")
    assert "2 MB" in message


def test_a_zip_that_is_no_workbook_is_refused(api_as, seller, kz_company, media):
    message = refused(api_as(seller), media, SimpleUploadedFile("c.xlsx", zip_bytes({"a.txt": b"hello"})))
    assert "XLSX" in message


def test_a_file_over_the_size_limit_is_refused(api_as, seller, kz_company, media, settings):
    settings.MARKETPLACE_IMPORT_MAX_BYTES = 1024
    refused(api_as(seller), media, csv_file(*[honey(n) for n in range(1, 40)]), status=422, code="limit_exceeded")


@pytest.mark.parametrize("name", ["../evil.jpg", "/etc/evil.jpg", "photos/../../evil.jpg", "C:\\evil.jpg"])
def test_a_zip_with_a_path_outside_its_folder_is_refused(api_as, seller, kz_company, media, name):
    images = SimpleUploadedFile("p.zip", zip_bytes({name: image_bytes()}))
    message = refused(api_as(seller), media, csv_file(honey(1)), images, field="images")
    assert "outside" in message


def test_a_zip_bomb_is_refused(api_as, seller, kz_company, media, settings):
    settings.MARKETPLACE_IMPORT_ZIP_MAX_UNPACKED = 2 * 1024 * 1024
    images = SimpleUploadedFile("p.zip", zip_bytes({"a.jpg": b"\0" * (8 * 1024 * 1024)}))
    refused(api_as(seller), media, csv_file(honey(1)), images, status=422, code="limit_exceeded", field="images")


def test_photos_that_are_not_a_zip_are_refused(api_as, seller, kz_company, media):
    refused(api_as(seller), media, csv_file(honey(1)), SimpleUploadedFile("p.zip", image_bytes()), field="images")


def png_bomb(width=20_000, height=20_000) -> bytes:
    """A PNG header claiming 400 megapixels (a decompression bomb), with a tiny body."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))


def test_bad_photos_are_row_errors_and_their_rows_write_nothing(seller, kz_company, media, settings):
    settings.MARKETPLACE_IMAGE_MAX_BYTES = 200_000
    rows = [honey(1, image="good.jpg"), honey(2, image="fake.jpg"), honey(3, image="bomb.png"),
            honey(4, image="huge.png"), honey(5, image="missing.jpg"), honey(6, image="../up.jpg")]
    photos = zip_file({"good.jpg": image_bytes(), "fake.jpg": b"GIF89a not really", "bomb.png": png_bomb(),
                       "huge.png": os.urandom(300_000)})
    imp = services.catalogue_import_create(company=kz_company, file=csv_file(*rows), images_zip=photos, actor=seller,
                                           run=False)
    imp = services.catalogue_import_run(import_id=imp.pk)
    assert (imp.status, imp.rows_done, imp.rows_failed) == ("done", 1, 5)
    errors = {e.row: (e.column, e.message["en"]) for e in imp.errors.all()}
    assert errors[3] == ("image", "This file is not a JPEG, PNG or WebP photo.")
    assert errors[4][0] == "image" and "too many pixels" in errors[4][1]
    assert errors[5][0] == "image" and "larger than" in errors[5][1]
    assert errors[6] == ("image", "missing.jpg is not in the ZIP of photos.")
    assert errors[7][0] == "image" and "folder" in errors[7][1]
    assert list(Product.objects.filter(company=kz_company).values_list("sku_code", flat=True)) == ["HNY-001"]
    assert Product.objects.get(sku_code="HNY-001").cover is not None


def test_a_row_naming_a_photo_without_a_zip_is_refused(seller, kz_company, media):
    imp = services.catalogue_import_create(company=kz_company, file=csv_file(honey(1, image="a.jpg")), actor=seller,
                                           run=False)
    imp = services.catalogue_import_run(import_id=imp.pk)
    assert imp.rows_failed == 1 and imp.errors.get().message["en"] == "No ZIP of photos was sent with this file."


worker = pytest.mark.django_db(transaction=True)


@worker
def test_an_xlsx_without_rows_fails_in_the_worker_in_the_sellers_language(api_as, seller, kz_company, media, _eager_tasks,
                                                                          celery_worker):
    from config.celery import app

    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)
    client = api_as(seller)
    response = upload(client, xlsx_file([HEADER.split(",")]))
    assert response.status_code == 202
    result = finished(client, response.json()["id"])
    assert result["status"] == "failed" and result["error"] == "The file has no product rows under its first row."
    russian = client.get(f"/api/v1/imports/{result['id']}/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert russian["error"] != result["error"] and russian["error"]
    assert not Product.objects.exists()
